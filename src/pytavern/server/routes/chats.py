"""Chats: list per character, create (with the greeting), read with messages, rename, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pytavern.engine.chat_options import ChatOptions
from pytavern.engine.services import ChatRecord, Services
from pytavern.engine.services.chats import chat_public, message_public
from pytavern.server.deps import ServicesDep
from pytavern.server.files import download, read_limited, safe_filename
from pytavern.server.uploads import upload_name

router = APIRouter(prefix="/api", tags=["chats"])
_JSONL = {
    "requestBody": {
        "required": True,
        "content": {"application/jsonl": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class ChatRename(BaseModel):
    """A chat's new title."""

    title: str = Field(min_length=1, max_length=200)


@router.get("/characters/{character_id}/chats")
async def list_chats(character_id: int, services: ServicesDep) -> list[dict[str, Any]]:
    """A character's chats, most recently active first."""
    return [chat_public(chat) for chat in services.chats.all(character_id)]


@router.post("/characters/{character_id}/chats", status_code=201)
async def create_chat(character_id: int, services: ServicesDep) -> dict[str, Any]:
    """Start a chat; it opens with the character's greeting."""
    return _with_messages(services, services.chats.start(character_id), 200)


@router.post("/characters/{character_id}/chats/import", status_code=201, openapi_extra=_JSONL)
async def import_chat_file(
    character_id: int, request: Request, services: ServicesDep, filename: str = "chat.jsonl"
) -> dict[str, Any]:
    """Import a SillyTavern chat (JSONL) as a new chat of the character (read and stored in
    a worker thread: a 50,000-message chat takes seconds, and streams go on meanwhile)."""
    services.characters.get(character_id)
    data = await read_limited(request)
    name = upload_name(filename, "chat.jsonl")
    chat = await run_in_threadpool(services.chats.import_bytes, data, name, character_id)
    return chat_public(chat)


@router.get(
    "/chats/{chat_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/jsonl": {}}}},
)
async def export_chat_file(chat_id: int, services: ServicesDep) -> Response:
    """Download the chat as SillyTavern JSONL (written in a worker thread: a 50,000-message
    chat takes seconds)."""
    chat = services.chats.get(chat_id)
    name = safe_filename(chat.title or f"chat-{chat_id}")
    data = await run_in_threadpool(services.chats.export, chat_id)
    return download(data, "application/jsonl", f"{name}.jsonl")


@router.get("/chats/{chat_id}")
async def get_chat(
    chat_id: int,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """A chat with its newest ``limit`` messages (each with its shown swipe)."""
    return _with_messages(services, services.chats.get(chat_id), limit)


@router.patch("/chats/{chat_id}")
async def rename_chat(chat_id: int, body: ChatRename, services: ServicesDep) -> dict[str, Any]:
    """Rename a chat."""
    chat = services.chats.rename(chat_id, body.title)
    return chat_public(chat, services.chats.group_id(chat_id))


@router.delete("/chats/{chat_id}", status_code=204)
async def delete_chat(chat_id: int, services: ServicesDep) -> Response:
    """Delete a chat and its messages."""
    services.chats.delete(chat_id)
    return Response(status_code=204)


def _with_messages(services: Services, chat: ChatRecord, limit: int) -> dict[str, Any]:
    messages = services.chats.history(chat.id, limit=limit)
    shown = services.regex.display(chat.id, messages)
    listed = [message_public(m) | {"display": d} for m, d in zip(messages, shown, strict=True)]
    return chat_public(chat, services.chats.group_id(chat.id)) | {"messages": listed}


@router.get("/chats/{chat_id}/options")
async def get_chat_options(chat_id: int, services: ServicesDep) -> dict[str, Any]:
    """The chat's own settings: its bound lorebook and its author's note."""
    return services.chats.options(chat_id)


@router.patch("/chats/{chat_id}/options")
async def change_chat_options(
    chat_id: int, body: ChatOptions, services: ServicesDep
) -> dict[str, Any]:
    """Change some of the chat's own settings; an empty ``world_info`` unbinds the lorebook."""
    return services.chats.set_options(chat_id, body)
