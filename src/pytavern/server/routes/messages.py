"""Messages: edit the shown text, delete, list and choose swipes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from pytavern.server.deps import StoreDep
from pytavern.server.routes.chats import message_public, swipe_public

router = APIRouter(prefix="/messages", tags=["messages"])


class MessageEdit(BaseModel):
    """A message's new text (for the swipe it shows)."""

    text: str


class SwipeChoice(BaseModel):
    """Which swipe to show."""

    index: int = Field(ge=0)


@router.get("/{message_id}")
async def get_message(message_id: int, store: StoreDep) -> dict[str, Any]:
    """One message."""
    return message_public(store.get_message(message_id))


@router.patch("/{message_id}")
async def edit_message(message_id: int, body: MessageEdit, store: StoreDep) -> dict[str, Any]:
    """Replace the text of the swipe shown (its status stays as it was)."""
    message = store.get_message(message_id)
    updated = store.update_swipe(
        message_id, message.active_swipe, text=body.text, status=message.swipe.status
    )
    return message_public(updated)


@router.delete("/{message_id}", status_code=204)
async def delete_message(message_id: int, store: StoreDep) -> Response:
    """Delete a message and its swipes."""
    store.delete_message(message_id)
    return Response(status_code=204)


@router.get("/{message_id}/swipes")
async def list_swipes(message_id: int, store: StoreDep) -> list[dict[str, Any]]:
    """Every swipe of a message."""
    store.get_message(message_id)
    return [swipe_public(swipe) for swipe in store.list_swipes(message_id)]


@router.put("/{message_id}/swipe")
async def set_swipe(message_id: int, body: SwipeChoice, store: StoreDep) -> dict[str, Any]:
    """Show another swipe of a message."""
    return message_public(store.set_active_swipe(message_id, body.index))
