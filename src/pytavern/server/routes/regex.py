"""Regex scripts: list by scope, import and export SillyTavern files, edit, allow a
character's scripts, and the editor's live test."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from pytavern.server.deps import ServicesDep
from pytavern.server.files import download, read_limited

router = APIRouter(prefix="/api/regex", tags=["regex"])

_JSON_FILE = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {}}},
    }
}


class ScriptList(BaseModel):
    """Scripts as SillyTavern JSON, in the order they run."""

    scripts: list[dict[str, Any]]


class Allowed(BaseModel):
    """Whether a character's own scripts may run."""

    allowed: bool


class PresetChoice(BaseModel):
    """The sampler preset whose scripts run (``null``: none)."""

    name: str | None = None


class TestRun(BaseModel):
    """One script tried on a text (the editor's test box)."""

    script: dict[str, Any]
    text: str = Field(max_length=200_000)
    character_id: int | None = None


@router.get("")
async def list_scripts(services: ServicesDep, character_id: int | None = None) -> dict[str, Any]:
    """Global scripts, a character's own (with ``character_id``), the active preset's."""
    settings = services.regex.settings()
    return {
        "scripts": [s.to_dict() for s in services.regex.all(character_id)],
        "preset": settings.preset,
        "allowed_characters": settings.allowed_characters,
    }


@router.post("/import", status_code=201, openapi_extra=_JSON_FILE)
async def import_scripts(
    request: Request,
    services: ServicesDep,
    character_id: int | None = None,
    preset: str | None = None,
) -> list[dict[str, Any]]:
    """Import a SillyTavern regex file: global, a character's, or a sampler preset's."""
    data = await read_limited(request)
    scripts = services.regex.import_bytes(data, character_id=character_id, preset=preset)
    return [script.to_dict() for script in scripts]


@router.get(
    "/export", response_class=Response, responses={200: {"content": {"application/json": {}}}}
)
async def export_scripts(
    services: ServicesDep, character_id: int | None = None, preset: str | None = None
) -> Response:
    """Download one scope's scripts as a SillyTavern regex file."""
    data = services.regex.export(character_id, preset)
    return download(data, "application/json", "regex.json")


@router.put("/global")
async def put_global(body: ScriptList, services: ServicesDep) -> list[dict[str, Any]]:
    """Replace the global scripts."""
    return [script.to_dict() for script in services.regex.replace_global(body.scripts)]


@router.put("/characters/{character_id}")
async def put_character(
    character_id: int, body: ScriptList, services: ServicesDep
) -> dict[str, Any]:
    """Replace a character's own scripts (kept in its card)."""
    services.regex.replace_character(character_id, body.scripts)
    return {"scripts": [s.to_dict() for s in services.regex.all(character_id)]}


@router.put("/characters/{character_id}/allowed")
async def put_allowed(character_id: int, body: Allowed, services: ServicesDep) -> dict[str, Any]:
    """Let a character's own scripts run, or stop them."""
    services.regex.allow_character(character_id, body.allowed)
    return {"allowed_characters": services.regex.settings().allowed_characters}


@router.put("/preset")
async def put_preset(body: PresetChoice, services: ServicesDep) -> dict[str, Any]:
    """Choose the sampler preset whose scripts run."""
    services.regex.use_preset(body.name)
    return {"preset": body.name}


@router.post("/test")
async def test_script(body: TestRun, services: ServicesDep) -> dict[str, Any]:
    """Run one script on a text, whatever its placement and flags."""
    char = ""
    if body.character_id is not None:
        char = services.characters.get(body.character_id).name
    return services.regex.test(body.script, body.text, char=char)
