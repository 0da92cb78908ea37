"""Personas, lorebooks, presets and user settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from pytavern.errors import ConfigError, FormatError, NotFoundError
from pytavern.server.deps import StoreDep
from pytavern.server.routes.characters import _IMAGE_BODY, _PNG_RESPONSE, image_type, read_limited
from pytavern.store import LorebookRecord, PersonaRecord, PresetRecord

personas = APIRouter(prefix="/personas", tags=["personas"])
lorebooks = APIRouter(prefix="/lorebooks", tags=["lorebooks"])
presets = APIRouter(prefix="/presets", tags=["presets"])
settings = APIRouter(prefix="/settings", tags=["settings"])


class PersonaBody(BaseModel):
    """A persona's fields (SillyTavern codes for position and role)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = None
    position: int | None = None
    depth: int | None = Field(default=None, ge=0)
    role: int | None = Field(default=None, ge=0, le=2)
    lorebook: str | None = None


class Payload(BaseModel):
    """A lorebook (World Info JSON) or preset body."""

    data: dict[str, Any]


def persona_public(record: PersonaRecord) -> dict[str, Any]:
    """A persona as the API shows it."""
    return {
        "id": record.id,
        "name": record.name,
        "description": record.description,
        "position": record.position,
        "depth": record.depth,
        "role": record.role,
        "lorebook": record.lorebook,
        "has_avatar": record.has_avatar,
        "is_default": record.is_default,
    }


@personas.get("")
async def list_personas(store: StoreDep) -> list[dict[str, Any]]:
    """Every persona."""
    return [persona_public(p) for p in store.list_personas()]


@personas.post("", status_code=201)
async def create_persona(body: PersonaBody, store: StoreDep) -> dict[str, Any]:
    """Create a persona."""
    return persona_public(store.save_persona(**body.model_dump(exclude_unset=True)))


@personas.get("/{persona_id}")
async def get_persona(persona_id: int, store: StoreDep) -> dict[str, Any]:
    """One persona."""
    return persona_public(store.get_persona(persona_id))


@personas.patch("/{persona_id}")
async def update_persona(persona_id: int, body: PersonaBody, store: StoreDep) -> dict[str, Any]:
    """Change the fields given of a persona."""
    return persona_public(store.save_persona(persona_id, **body.model_dump(exclude_unset=True)))


@personas.delete("/{persona_id}", status_code=204)
async def delete_persona(persona_id: int, store: StoreDep) -> Response:
    """Delete a persona."""
    store.delete_persona(persona_id)
    return Response(status_code=204)


@personas.post("/{persona_id}/default")
async def default_persona(persona_id: int, store: StoreDep) -> dict[str, Any]:
    """Make a persona the default."""
    return persona_public(store.set_default_persona(persona_id))


@personas.get("/{persona_id}/avatar", response_class=Response, responses=_PNG_RESPONSE)
async def get_persona_avatar(persona_id: int, store: StoreDep) -> Response:
    """The persona's avatar image."""
    avatar = store.persona_avatar(persona_id)
    if avatar is None:
        raise NotFoundError(f"persona {persona_id} has no avatar")
    return Response(avatar, media_type=image_type(avatar))


@personas.put("/{persona_id}/avatar", openapi_extra=_IMAGE_BODY)
async def put_persona_avatar(persona_id: int, request: Request, store: StoreDep) -> dict[str, Any]:
    """Replace the persona's avatar."""
    image = await read_limited(request)
    if image_type(image) == "application/octet-stream":
        raise FormatError("the avatar must be a PNG, JPEG, GIF or WebP image")
    return persona_public(store.save_persona(persona_id, avatar=image))


def lorebook_public(record: LorebookRecord, *, full: bool) -> dict[str, Any]:
    """A lorebook (its entries only when ``full``)."""
    entries = record.data.get("entries")
    count = len(entries) if isinstance(entries, dict | list) else 0
    base = {"name": record.name, "entries": count, "updated_at": record.updated_at.isoformat()}
    return base | {"data": record.data} if full else base


@lorebooks.get("")
async def list_lorebooks(store: StoreDep) -> list[dict[str, Any]]:
    """Every lorebook with its entry count."""
    return [lorebook_public(r, full=False) for r in store.list_lorebooks()]


@lorebooks.get("/{name}")
async def get_lorebook(name: str, store: StoreDep) -> dict[str, Any]:
    """One lorebook with its World Info data."""
    return lorebook_public(store.get_lorebook(name), full=True)


@lorebooks.put("/{name}")
async def put_lorebook(name: str, body: Payload, store: StoreDep) -> dict[str, Any]:
    """Create or replace a lorebook (SillyTavern World Info JSON: ``{"entries": {...}}``)."""
    if not isinstance(body.data.get("entries", {}), dict | list):
        raise FormatError("a lorebook's 'entries' must be an object or a list")
    return lorebook_public(store.save_lorebook(name, body.data), full=True)


@lorebooks.delete("/{name}", status_code=204)
async def delete_lorebook(name: str, store: StoreDep) -> Response:
    """Delete a lorebook."""
    store.delete_lorebook(name)
    return Response(status_code=204)


def preset_public(record: PresetRecord) -> dict[str, Any]:
    """A preset."""
    return {"kind": record.kind, "name": record.name, "data": record.data}


@presets.get("")
async def list_presets(store: StoreDep, kind: str | None = None) -> list[dict[str, Any]]:
    """Presets (instruct, context, sysprompt, sampler), optionally of one kind."""
    return [preset_public(p) for p in store.list_presets(kind)]


@presets.get("/{kind}/{name}")
async def get_preset(kind: str, name: str, store: StoreDep) -> dict[str, Any]:
    """One preset."""
    record = store.get_preset(kind, name)
    if record is None:
        raise NotFoundError(f"no {kind} preset named {name!r}")
    return preset_public(record)


@presets.put("/{kind}/{name}")
async def put_preset(kind: str, name: str, body: Payload, store: StoreDep) -> dict[str, Any]:
    """Create or replace a preset."""
    return preset_public(store.save_preset(kind, name, body.data))


@presets.delete("/{kind}/{name}", status_code=204)
async def delete_preset(kind: str, name: str, store: StoreDep) -> Response:
    """Delete a preset."""
    store.delete_preset(kind, name)
    return Response(status_code=204)


SETTING_KEYS = frozenset(
    {
        "samplers",
        "context_size",
        "max_tokens",
        "instruct",
        "context",
        "sysprompt",
        "system_prompt",
        "persona_id",
        "author_note",
        "author_note_depth",
        "lorebooks",
        "stream",
        "user_name",
    }
)


@settings.get("")
async def get_settings(store: StoreDep) -> dict[str, Any]:
    """The user's generation settings."""
    return {key: store.get_setting(key) for key in sorted(SETTING_KEYS)}


@settings.patch("")
async def patch_settings(body: dict[str, Any], store: StoreDep) -> dict[str, Any]:
    """Change some of the user's generation settings."""
    unknown = set(body) - SETTING_KEYS
    if unknown:
        raise ConfigError(
            f"unknown settings: {', '.join(sorted(unknown))}",
            hint=f"Known settings: {', '.join(sorted(SETTING_KEYS))}",
        )
    for key, value in body.items():
        store.set_setting(key, value)
    return await get_settings(store)
