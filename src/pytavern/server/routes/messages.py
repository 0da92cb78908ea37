"""Messages: edit the shown text, delete, list and choose swipes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from pytavern.engine.services.chats import message_public, swipe_public
from pytavern.server.deps import ServicesDep

router = APIRouter(prefix="/api/messages", tags=["messages"])


class MessageEdit(BaseModel):
    """A message's new text (for the swipe it shows)."""

    text: str


class SwipeChoice(BaseModel):
    """Which swipe to show."""

    index: int = Field(ge=0)


@router.get("/{message_id}")
async def get_message(message_id: int, services: ServicesDep) -> dict[str, Any]:
    """One message."""
    return message_public(services.messages.get(message_id))


@router.patch("/{message_id}")
async def edit_message(message_id: int, body: MessageEdit, services: ServicesDep) -> dict[str, Any]:
    """Replace the text of the swipe shown (its status stays as it was)."""
    return message_public(services.messages.edit(message_id, body.text))


@router.delete("/{message_id}", status_code=204)
async def delete_message(message_id: int, services: ServicesDep) -> Response:
    """Delete a message and its swipes."""
    services.messages.delete(message_id)
    return Response(status_code=204)


@router.get("/{message_id}/swipes")
async def list_swipes(message_id: int, services: ServicesDep) -> list[dict[str, Any]]:
    """Every swipe of a message."""
    return [swipe_public(swipe) for swipe in services.messages.swipes(message_id)]


@router.put("/{message_id}/swipe")
async def set_swipe(message_id: int, body: SwipeChoice, services: ServicesDep) -> dict[str, Any]:
    """Show another swipe of a message."""
    return message_public(services.messages.show_swipe(message_id, body.index))


class HiddenChoice(BaseModel):
    """Whether the message is left out of the prompt."""

    hidden: bool


@router.put("/{message_id}/hidden")
async def set_hidden(message_id: int, body: HiddenChoice, services: ServicesDep) -> dict[str, Any]:
    """Hide a message from the prompt (it stays in the chat), or show it to the prompt again."""
    return message_public(services.messages.hide(message_id, body.hidden))
