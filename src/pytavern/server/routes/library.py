"""Personas, lorebooks, presets and user settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from pytavern.engine.services.characters import image_type
from pytavern.engine.services.library import persona_public
from pytavern.server.deps import ServicesDep
from pytavern.server.files import IMAGE_BODY, PNG_RESPONSE, download, read_limited, safe_filename
from pytavern.server.uploads import upload_name

_JSON_FILE = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
personas = APIRouter(prefix="/api/personas", tags=["personas"])
lorebooks = APIRouter(prefix="/api/lorebooks", tags=["lorebooks"])
presets = APIRouter(prefix="/api/presets", tags=["presets"])
settings = APIRouter(prefix="/api/settings", tags=["settings"])


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


@personas.get("")
async def list_personas(services: ServicesDep) -> list[dict[str, Any]]:
    """Every persona."""
    return [persona_public(p) for p in services.personas.all()]


@personas.post("", status_code=201)
async def create_persona(body: PersonaBody, services: ServicesDep) -> dict[str, Any]:
    """Create a persona."""
    return persona_public(services.personas.save(**body.model_dump(exclude_unset=True)))


@personas.get("/{persona_id}")
async def get_persona(persona_id: int, services: ServicesDep) -> dict[str, Any]:
    """One persona."""
    return persona_public(services.personas.get(persona_id))


@personas.patch("/{persona_id}")
async def update_persona(
    persona_id: int, body: PersonaBody, services: ServicesDep
) -> dict[str, Any]:
    """Change the fields given of a persona."""
    changes = body.model_dump(exclude_unset=True)
    return persona_public(services.personas.save(persona_id, **changes))


@personas.delete("/{persona_id}", status_code=204)
async def delete_persona(persona_id: int, services: ServicesDep) -> Response:
    """Delete a persona."""
    services.personas.delete(persona_id)
    return Response(status_code=204)


@personas.post("/{persona_id}/default")
async def default_persona(persona_id: int, services: ServicesDep) -> dict[str, Any]:
    """Make a persona the default."""
    return persona_public(services.personas.set_default(persona_id))


@personas.get("/{persona_id}/avatar", response_class=Response, responses=PNG_RESPONSE)
async def get_persona_avatar(persona_id: int, services: ServicesDep) -> Response:
    """The persona's avatar image."""
    avatar = services.personas.avatar(persona_id)
    return Response(avatar, media_type=image_type(avatar))


@personas.put("/{persona_id}/avatar", openapi_extra=IMAGE_BODY)
async def put_persona_avatar(
    persona_id: int, request: Request, services: ServicesDep
) -> dict[str, Any]:
    """Replace the persona's avatar."""
    image = await read_limited(request)
    return persona_public(services.personas.save(persona_id, avatar=image))


@lorebooks.get("")
async def list_lorebooks(services: ServicesDep) -> list[dict[str, Any]]:
    """Every lorebook with its entry count."""
    books = services.lorebooks
    return [books.public(r, full=False) for r in books.all()]


@lorebooks.post("/import", status_code=201, openapi_extra=_JSON_FILE)
async def import_lorebook_file(
    request: Request,
    services: ServicesDep,
    filename: str = "lorebook.json",
    name: str | None = None,
) -> dict[str, Any]:
    """Import a SillyTavern World Info JSON file (named after the file unless ``name``)."""
    data = await read_limited(request)
    given = upload_name(name, "lorebook") if name is not None else None
    books = services.lorebooks
    record = books.import_bytes(data, upload_name(filename, "lorebook.json"), given)
    return books.public(record, full=False)


@lorebooks.get(
    "/{name}/export",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def export_lorebook_file(name: str, services: ServicesDep) -> Response:
    """Download a lorebook as SillyTavern World Info JSON."""
    data = services.lorebooks.export(name)
    return download(data, "application/json", f"{safe_filename(name)}.json")


@lorebooks.get("/{name}")
async def get_lorebook(name: str, services: ServicesDep) -> dict[str, Any]:
    """One lorebook with its World Info data."""
    return services.lorebooks.public(services.lorebooks.get(name), full=True)


@lorebooks.put("/{name}")
async def put_lorebook(name: str, body: Payload, services: ServicesDep) -> dict[str, Any]:
    """Create or replace a lorebook (SillyTavern World Info JSON: ``{"entries": {...}}``)."""
    return services.lorebooks.public(services.lorebooks.save(name, body.data), full=True)


@lorebooks.delete("/{name}", status_code=204)
async def delete_lorebook(name: str, services: ServicesDep) -> Response:
    """Delete a lorebook."""
    services.lorebooks.delete(name)
    return Response(status_code=204)


class ActiveBody(BaseModel):
    """Whether a lorebook is active in every chat."""

    active: bool


@lorebooks.put("/{name}/active")
async def set_lorebook_active(name: str, body: ActiveBody, services: ServicesDep) -> dict[str, Any]:
    """Make a lorebook active in every chat, or not."""
    services.lorebooks.set_active(name, body.active)
    return {"name": name, "active": body.active}


@presets.get("")
async def list_presets(services: ServicesDep, kind: str | None = None) -> list[dict[str, Any]]:
    """Presets (instruct, context, sysprompt, sampler), optionally of one kind: the stored
    ones first, then the instruct, context and system-prompt templates bundled with pytavern
    (``bundled`` and ``read_only`` true). A stored preset named like a bundled template
    shadows it (``shadows_bundled`` true; the bundled one is then not listed), as it does
    when a prompt is built."""
    return [preset.to_dict() for preset in services.presets.all(kind)]


@presets.get("/{kind}/{name}")
async def get_preset(kind: str, name: str, services: ServicesDep) -> dict[str, Any]:
    """One preset: the stored one of that name, else the bundled template of that name."""
    return services.presets.get(kind, name).to_dict()


@presets.put("/{kind}/{name}")
async def put_preset(kind: str, name: str, body: Payload, services: ServicesDep) -> dict[str, Any]:
    """Create or replace a stored preset (one named like a bundled template shadows it)."""
    return services.presets.save(kind, name, body.data).to_dict()


@presets.delete("/{kind}/{name}", status_code=204)
async def delete_preset(kind: str, name: str, services: ServicesDep) -> Response:
    """Delete a stored preset (a bundled template it shadowed comes back); bundled templates
    are read-only (403)."""
    services.presets.delete(kind, name)
    return Response(status_code=204)


@settings.get("")
async def get_settings(services: ServicesDep) -> dict[str, Any]:
    """The user's generation preferences (samplers, context, templates, author's note)."""
    return services.preferences.get().model_dump(mode="json")


@settings.patch("")
async def patch_settings(body: dict[str, Any], services: ServicesDep) -> dict[str, Any]:
    """Change some generation preferences; nested objects merge, ``null`` resets a field."""
    return services.preferences.change(body).model_dump(mode="json")


class SamplerPresetBody(BaseModel):
    """Which stored sampler preset to load."""

    name: str


@settings.post("/sampler-preset")
async def load_sampler_preset(body: SamplerPresetBody, services: ServicesDep) -> dict[str, Any]:
    """Load a stored sampler preset (SillyTavern's preset file) in place of the samplers."""
    return services.preferences.load_sampler_preset(body.name).model_dump(mode="json")
