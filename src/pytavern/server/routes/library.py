"""Personas, lorebooks, presets and user settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from pytavern.engine.preferences import load_preferences, save_preferences
from pytavern.engine.transfer import export_lorebook, import_lorebook
from pytavern.errors import FormatError, NotFoundError
from pytavern.formats.presets import PresetKind, bundled_names, load_bundled
from pytavern.server.auth import ForbiddenError
from pytavern.server.deps import StoreDep
from pytavern.server.routes.characters import (
    _IMAGE_BODY,
    _PNG_RESPONSE,
    download,
    image_type,
    read_limited,
    safe_filename,
)
from pytavern.server.uploads import upload_name
from pytavern.store import LorebookRecord, PersonaRecord, PresetRecord

_JSON_FILE = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
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


def lorebook_public(record: LorebookRecord, active: list[str], *, full: bool) -> dict[str, Any]:
    """A lorebook (its entries only when ``full``)."""
    entries = record.data.get("entries")
    count = len(entries) if isinstance(entries, dict | list) else 0
    base = {
        "name": record.name,
        "entries": count,
        "active": record.name in active,
        "updated_at": record.updated_at.isoformat(),
    }
    return base | {"data": record.data} if full else base


@lorebooks.get("")
async def list_lorebooks(store: StoreDep) -> list[dict[str, Any]]:
    """Every lorebook with its entry count."""
    active = active_lorebooks(store)
    return [lorebook_public(r, active, full=False) for r in store.list_lorebooks()]


@lorebooks.post("/import", status_code=201, openapi_extra=_JSON_FILE)
async def import_lorebook_file(
    request: Request, store: StoreDep, filename: str = "lorebook.json", name: str | None = None
) -> dict[str, Any]:
    """Import a SillyTavern World Info JSON file (named after the file unless ``name``)."""
    data = await read_limited(request)
    given = upload_name(name, "lorebook") if name is not None else None
    record = import_lorebook(store, data, upload_name(filename, "lorebook.json"), given)
    return lorebook_public(record, active_lorebooks(store), full=False)


@lorebooks.get(
    "/{name}/export",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def export_lorebook_file(name: str, store: StoreDep) -> Response:
    """Download a lorebook as SillyTavern World Info JSON."""
    return download(export_lorebook(store, name), "application/json", f"{safe_filename(name)}.json")


@lorebooks.get("/{name}")
async def get_lorebook(name: str, store: StoreDep) -> dict[str, Any]:
    """One lorebook with its World Info data."""
    active = active_lorebooks(store)
    return lorebook_public(store.get_lorebook(name), active, full=True)


@lorebooks.put("/{name}")
async def put_lorebook(name: str, body: Payload, store: StoreDep) -> dict[str, Any]:
    """Create or replace a lorebook (SillyTavern World Info JSON: ``{"entries": {...}}``)."""
    if not isinstance(body.data.get("entries", {}), dict | list):
        raise FormatError("a lorebook's 'entries' must be an object or a list")
    active = active_lorebooks(store)
    return lorebook_public(store.save_lorebook(name, body.data), active, full=True)


@lorebooks.delete("/{name}", status_code=204)
async def delete_lorebook(name: str, store: StoreDep) -> Response:
    """Delete a lorebook."""
    store.delete_lorebook(name)
    return Response(status_code=204)


BUNDLED_KINDS: tuple[PresetKind, ...] = ("instruct", "context", "sysprompt")
"""The kinds of preset pytavern ships templates of (``pytavern/data/<kind>/``)."""


def preset_public(record: PresetRecord, *, shadows_bundled: bool = False) -> dict[str, Any]:
    """A stored preset, marked when it shadows a bundled template of the same name."""
    return {
        "kind": record.kind,
        "name": record.name,
        "data": record.data,
        "bundled": False,
        "read_only": False,
        "shadows_bundled": shadows_bundled,
    }


def bundled_public(kind: PresetKind, name: str) -> dict[str, Any]:
    """A template shipped with pytavern (read-only)."""
    data = load_bundled(kind, name).to_dict()
    return {
        "kind": kind,
        "name": name,
        "data": data,
        "bundled": True,
        "read_only": True,
        "shadows_bundled": False,
    }


def _bundled_kind(kind: str) -> PresetKind | None:
    return next((k for k in BUNDLED_KINDS if k == kind), None)


def _is_bundled(kind: str, name: str) -> bool:
    bundled = _bundled_kind(kind)
    return bundled is not None and name in bundled_names(bundled)


@presets.get("")
async def list_presets(store: StoreDep, kind: str | None = None) -> list[dict[str, Any]]:
    """Presets (instruct, context, sysprompt, sampler), optionally of one kind: the stored
    ones first, then the instruct, context and system-prompt templates bundled with pytavern
    (``bundled`` and ``read_only`` true). A stored preset named like a bundled template
    shadows it (``shadows_bundled`` true; the bundled one is then not listed), as it does
    when a prompt is built."""
    stored = store.list_presets(kind)
    taken = {(p.kind, p.name) for p in stored}
    listed = [preset_public(p, shadows_bundled=_is_bundled(p.kind, p.name)) for p in stored]
    kinds = BUNDLED_KINDS if kind is None else [k for k in BUNDLED_KINDS if k == kind]
    return listed + [
        bundled_public(k, name)
        for k in kinds
        for name in bundled_names(k)
        if (k, name) not in taken
    ]


@presets.get("/{kind}/{name}")
async def get_preset(kind: str, name: str, store: StoreDep) -> dict[str, Any]:
    """One preset: the stored one of that name, else the bundled template of that name."""
    record = store.get_preset(kind, name)
    if record is not None:
        return preset_public(record, shadows_bundled=_is_bundled(kind, name))
    bundled = _bundled_kind(kind)
    if bundled is not None and name in bundled_names(bundled):
        return bundled_public(bundled, name)
    raise NotFoundError(f"no {kind} preset named {name!r}")


@presets.put("/{kind}/{name}")
async def put_preset(kind: str, name: str, body: Payload, store: StoreDep) -> dict[str, Any]:
    """Create or replace a stored preset (one named like a bundled template shadows it)."""
    record = store.save_preset(kind, name, body.data)
    return preset_public(record, shadows_bundled=_is_bundled(kind, name))


@presets.delete("/{kind}/{name}", status_code=204)
async def delete_preset(kind: str, name: str, store: StoreDep) -> Response:
    """Delete a stored preset (a bundled template it shadowed comes back); bundled templates
    are read-only (403)."""
    if store.get_preset(kind, name) is None and _is_bundled(kind, name):
        raise ForbiddenError(
            f"the {kind} template {name!r} is bundled with pytavern and cannot be deleted",
            hint="Save a preset of the same name to use in its place",
        )
    store.delete_preset(kind, name)
    return Response(status_code=204)


def active_lorebooks(store: StoreDep) -> list[str]:
    """The lorebooks in play for every chat (the preferences' ``world_info``)."""
    return load_preferences(store).world_info


class ActiveBody(BaseModel):
    """Whether a lorebook is active in every chat."""

    active: bool


@lorebooks.put("/{name}/active")
async def set_lorebook_active(name: str, body: ActiveBody, store: StoreDep) -> dict[str, Any]:
    """Make a lorebook active in every chat, or not."""
    store.get_lorebook(name)
    names = [n for n in active_lorebooks(store) if n != name]
    save_preferences(store, {"world_info": [*names, name] if body.active else names})
    return {"name": name, "active": body.active}


@settings.get("")
async def get_settings(store: StoreDep) -> dict[str, Any]:
    """The user's generation preferences (samplers, context, templates, author's note)."""
    return load_preferences(store).model_dump(mode="json")


@settings.patch("")
async def patch_settings(body: dict[str, Any], store: StoreDep) -> dict[str, Any]:
    """Change some generation preferences; nested objects merge, ``null`` resets a field."""
    return save_preferences(store, body).model_dump(mode="json")
