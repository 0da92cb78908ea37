"""Tags on characters: those in use, and a character's own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from pytavern.engine.services.characters import character_summary
from pytavern.server.deps import ServicesDep

router = APIRouter(prefix="/api", tags=["tags"])


class TagList(BaseModel):
    """A character's tags."""

    tags: list[str] = Field(max_length=200)


@router.get("/tags")
async def list_tags(services: ServicesDep) -> list[dict[str, Any]]:
    """Every tag in use with how many characters carry it, most used first."""
    return [{"tag": tag, "characters": count} for tag, count in services.characters.tags()]


@router.put("/characters/{character_id}/tags")
async def put_tags(character_id: int, body: TagList, services: ServicesDep) -> dict[str, Any]:
    """Replace a character's tags (kept in its card)."""
    return character_summary(services.characters.set_tags(character_id, body.tags))
