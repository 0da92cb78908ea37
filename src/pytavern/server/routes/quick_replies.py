"""Quick replies: sets in and out, which show, what a button does, and ``/send``'s message."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from pytavern.engine.services.chats import message_public
from pytavern.server.deps import ServicesDep
from pytavern.server.files import download, read_limited, safe_filename

router = APIRouter(prefix="/api", tags=["quick replies"])

_JSON_FILE = {"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}}


class Active(BaseModel):
    """Whether a set's buttons show."""

    active: bool


class Press(BaseModel):
    """A button pressed in a chat, with what the input box holds."""

    set: str
    id: int
    input: str = Field(default="", max_length=200_000)


class UserMessage(BaseModel):
    """A user's message added without asking for a reply."""

    text: str = Field(min_length=1, max_length=1_000_000)


@router.get("/quick-replies")
async def list_sets(services: ServicesDep) -> list[dict[str, Any]]:
    """Every set with its visible buttons and whether it shows."""
    return services.quick_replies.all()


@router.post("/quick-replies/import", status_code=201, openapi_extra=_JSON_FILE)
async def import_set(request: Request, services: ServicesDep) -> dict[str, Any]:
    """Import a SillyTavern quick-reply set (it replaces one of the same name, and shows)."""
    reply_set = services.quick_replies.import_bytes(await read_limited(request))
    return {"name": reply_set.name, "replies": len(reply_set.replies)}


@router.get(
    "/quick-replies/{name}/export",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def export_set(name: str, services: ServicesDep) -> Response:
    """Download a set as a SillyTavern quick-reply file."""
    data = services.quick_replies.export(name)
    return download(data, "application/json", f"{safe_filename(name)}.json")


@router.put("/quick-replies/{name}/active")
async def set_active(name: str, body: Active, services: ServicesDep) -> dict[str, Any]:
    """Show or hide a set's buttons."""
    services.quick_replies.set_active(name, body.active)
    return {"name": name, "active": body.active}


@router.delete("/quick-replies/{name}", status_code=204)
async def delete_set(name: str, services: ServicesDep) -> Response:
    """Delete a set."""
    services.quick_replies.delete(name)
    return Response(status_code=204)


@router.post("/chats/{chat_id}/quick-reply")
async def press(chat_id: int, body: Press, services: ServicesDep) -> dict[str, Any]:
    """What the button does here: its steps, checked, with macros substituted."""
    steps = services.quick_replies.plan(chat_id, body.set, body.id, body.input)
    return {"steps": [step.to_dict() for step in steps]}


@router.post("/chats/{chat_id}/messages", status_code=201)
async def add_user_message(
    chat_id: int, body: UserMessage, services: ServicesDep
) -> dict[str, Any]:
    """Add the user's message without asking for a reply (``/send``)."""
    return message_public(services.quick_replies.add_user_message(chat_id, body.text))
