"""Connections: list, create, update, delete, test, models, samplers, default, and keys.

Keys are write-only: ``PUT`` stores one, ``DELETE`` forgets it, ``GET`` says only whether one
is set and its last four characters. Keys travel in request bodies, never in URLs. Every
answer comes from the connection service, in the shape the CLI's ``--json`` prints too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from pytavern.engine.services import ConnectionInput
from pytavern.engine.services.connections import model_to_dict
from pytavern.server.deps import ServicesDep

router = APIRouter(prefix="/api/connections", tags=["connections"])


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
    keys: list[str] = Field(default_factory=list, description="More keys, tried in order.")
    key_envs: list[str] = Field(
        default_factory=list, description="Environment variables holding keys, in order."
    )
    fallback: list[str] = Field(
        default_factory=list, description="Connections to try when this one fails first."
    )
    default: bool = False


class KeyBody(BaseModel):
    """An API key to store."""

    key: str = Field(min_length=1)


class KeysBody(BaseModel):
    """Several API keys to store, tried in order."""

    keys: list[str] = Field(min_length=1)


@router.get("")
async def list_connections(services: ServicesDep) -> list[dict[str, Any]]:
    """Every connection."""
    return [view.to_dict() for view in services.connections.all()]


@router.post("", status_code=201)
async def create_connection(body: ConnectionCreate, services: ServicesDep) -> dict[str, Any]:
    """Create a connection (and store its key when given)."""
    spec = ConnectionInput(
        name=body.name,
        api=body.api,
        url=body.url,
        model=body.model,
        options=body.options,
        key=body.key,
        keys=tuple(body.keys),
        key_envs=tuple(body.key_envs),
        fallback=tuple(body.fallback),
        make_default=body.default,
    )
    return services.connections.add(spec, replace=False).to_dict()


@router.get("/{name}")
async def get_connection(name: str, services: ServicesDep) -> dict[str, Any]:
    """One connection."""
    return services.connections.get(name).to_dict()


@router.put("/{name}")
async def update_connection(
    name: str, body: ConnectionBody, services: ServicesDep
) -> dict[str, Any]:
    """Change a connection's API, URL, model or options (its key stays)."""
    view = services.connections.update(
        name, api=body.api, url=body.url, model=body.model, options=body.options
    )
    return view.to_dict()


@router.delete("/{name}", status_code=204)
async def delete_connection(name: str, services: ServicesDep) -> Response:
    """Delete a connection and its key."""
    services.connections.remove(name)
    return Response(status_code=204)


@router.post("/{name}/default")
async def set_default(name: str, services: ServicesDep) -> dict[str, Any]:
    """Make a connection the default."""
    return services.connections.set_default(name).to_dict()


@router.post("/{name}/test")
async def test_connection(name: str, services: ServicesDep) -> dict[str, Any]:
    """Check the connection for real; the answer diagnoses a failure in words."""
    return (await services.connections.test(name)).to_dict()


@router.get("/{name}/models")
async def list_models(name: str, services: ServicesDep) -> list[dict[str, Any]]:
    """The models the backend offers."""
    return [model_to_dict(m) for m in await services.connections.models(name)]


@router.get("/{name}/samplers")
async def list_samplers(name: str, services: ServicesDep) -> dict[str, list[str]]:
    """The sampler settings this backend takes."""
    return {"samplers": await services.connections.samplers(name)}


@router.get("/{name}/key")
async def get_key(name: str, services: ServicesDep) -> dict[str, object]:
    """Whether a key is set, and its last four characters."""
    return services.connections.key(name).to_dict()


@router.put("/{name}/key")
async def put_key(name: str, body: KeyBody, services: ServicesDep) -> dict[str, object]:
    """Store the connection's key."""
    return services.connections.set_key(name, body.key).to_dict()


@router.delete("/{name}/key")
async def delete_key(name: str, services: ServicesDep) -> dict[str, object]:
    """Forget the connection's stored key."""
    return services.connections.delete_key(name).to_dict()


@router.get("/{name}/keys")
async def get_keys(name: str, services: ServicesDep) -> list[dict[str, Any]]:
    """Each key the connection may use: last four characters, source and state
    (``refused`` keys are parked until stored again)."""
    return [status.to_dict() for status in services.connections.key_statuses(name)]


@router.put("/{name}/keys")
async def put_keys(name: str, body: KeysBody, services: ServicesDep) -> list[dict[str, Any]]:
    """Store the connection's keys (replacing the stored ones), tried in order."""
    return [status.to_dict() for status in services.connections.set_keys(name, body.keys)]
