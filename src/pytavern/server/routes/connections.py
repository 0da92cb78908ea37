"""Connections: list, create, update, delete, test, models, samplers, default, and keys.

Keys are write-only: ``PUT`` stores one, ``DELETE`` forgets it, ``GET`` says only whether one
is set and its last four characters. Keys travel in request bodies, never in URLs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from pytavern.engine import connection_config, key_info
from pytavern.engine.connections import validate_options
from pytavern.errors import ConfigError
from pytavern.server.deps import EngineDep
from pytavern.store import ConnectionRecord

router = APIRouter(prefix="/connections", tags=["connections"])


class ConnectionBody(BaseModel):
    """The editable settings of a connection."""

    api: str
    url: str | None = None
    model: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class ConnectionCreate(ConnectionBody):
    """A new connection, optionally with its key."""

    name: str = Field(min_length=1, max_length=64)
    key: str | None = None
    default: bool = False


class KeyBody(BaseModel):
    """An API key to store."""

    key: str = Field(min_length=1)


def public(record: ConnectionRecord, engine: EngineDep) -> dict[str, Any]:
    """A connection as the API shows it (with key info, never the key)."""
    return {
        "name": record.name,
        "api": record.api,
        "url": record.url,
        "model": record.model,
        "options": record.options,
        "is_default": record.is_default,
        "key": key_info(record, engine.secrets).to_dict(),
    }


@router.get("")
async def list_connections(engine: EngineDep) -> list[dict[str, Any]]:
    """Every connection."""
    return [public(record, engine) for record in engine.store.list_connections()]


@router.post("", status_code=201)
async def create_connection(body: ConnectionCreate, engine: EngineDep) -> dict[str, Any]:
    """Create a connection (and store its key when given)."""
    if body.name in {c.name for c in engine.store.list_connections()}:
        raise ConfigError(
            f"a connection named {body.name!r} already exists", hint="Pick another name"
        )
    record = _save(engine, body.name, body)
    if body.key:
        engine.secrets.set(body.name, body.key)
    if body.default:
        record = engine.store.set_default_connection(body.name)
    return public(record, engine)


@router.get("/{name}")
async def get_connection(name: str, engine: EngineDep) -> dict[str, Any]:
    """One connection."""
    return public(engine.store.get_connection(name), engine)


@router.put("/{name}")
async def update_connection(name: str, body: ConnectionBody, engine: EngineDep) -> dict[str, Any]:
    """Change a connection's API, URL, model or options (its key stays)."""
    engine.store.get_connection(name)
    return public(_save(engine, name, body), engine)


@router.delete("/{name}", status_code=204)
async def delete_connection(name: str, engine: EngineDep) -> Response:
    """Delete a connection and its key."""
    engine.store.remove_connection(name)
    engine.secrets.delete(name)
    return Response(status_code=204)


@router.post("/{name}/default")
async def set_default(name: str, engine: EngineDep) -> dict[str, Any]:
    """Make a connection the default."""
    return public(engine.store.set_default_connection(name), engine)


@router.post("/{name}/test")
async def test_connection(name: str, engine: EngineDep) -> dict[str, Any]:
    """Check the connection for real; the answer diagnoses a failure in words."""
    _record, provider = await engine.provider(name)
    status = await provider.check()
    return status.to_dict() | {"samplers": sorted(provider.supported_samplers())}


@router.get("/{name}/models")
async def list_models(name: str, engine: EngineDep) -> list[dict[str, Any]]:
    """The models the backend offers."""
    _record, provider = await engine.provider(name)
    models = await provider.list_models()
    return [{"id": m.id, "name": m.name, "context_length": m.context_length} for m in models]


@router.get("/{name}/samplers")
async def list_samplers(name: str, engine: EngineDep) -> dict[str, list[str]]:
    """The sampler settings this backend takes."""
    _record, provider = await engine.provider(name)
    return {"samplers": sorted(provider.supported_samplers())}


@router.get("/{name}/key")
async def get_key(name: str, engine: EngineDep) -> dict[str, object]:
    """Whether a key is set, and its last four characters."""
    return key_info(engine.store.get_connection(name), engine.secrets).to_dict()


@router.put("/{name}/key")
async def put_key(name: str, body: KeyBody, engine: EngineDep) -> dict[str, object]:
    """Store the connection's key."""
    record = engine.store.get_connection(name)
    engine.secrets.set(name, body.key)
    return key_info(record, engine.secrets).to_dict()


@router.delete("/{name}/key")
async def delete_key(name: str, engine: EngineDep) -> dict[str, object]:
    """Forget the connection's stored key."""
    record = engine.store.get_connection(name)
    engine.secrets.delete(name)
    return key_info(record, engine.secrets).to_dict()


def _save(engine: EngineDep, name: str, body: ConnectionBody) -> ConnectionRecord:
    options = validate_options(body.api, body.options)
    url = (body.url or "").strip() or None
    record = engine.store.save_connection(
        name=name, api=body.api, url=url, model=body.model or None, options=options
    )
    connection_config(record, engine.secrets)
    return record
