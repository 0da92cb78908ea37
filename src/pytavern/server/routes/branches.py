"""Branches and checkpoints: made at a message, and the links between the chats."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from pytavern.engine.services.chats import chat_public
from pytavern.server.deps import ServicesDep

router = APIRouter(prefix="/api", tags=["branches"])


class CheckpointBody(BaseModel):
    """A checkpoint's name (empty: ``Checkpoint #N``)."""

    name: str = Field(default="", max_length=200)


@router.post("/messages/{message_id}/branch", status_code=201)
async def branch(message_id: int, services: ServicesDep) -> dict[str, Any]:
    """A new chat sharing the history up to this message."""
    return chat_public(services.chats.branch(message_id))


@router.post("/messages/{message_id}/checkpoint", status_code=201)
async def checkpoint(
    message_id: int, body: CheckpointBody, services: ServicesDep
) -> dict[str, Any]:
    """A named checkpoint chat at this message."""
    return chat_public(services.chats.checkpoint(message_id, body.name))


@router.get("/chats/{chat_id}/links")
async def links(chat_id: int, services: ServicesDep) -> dict[str, Any]:
    """The chat this one came from, and the branches and checkpoints made from it."""
    return services.chats.links(chat_id)
