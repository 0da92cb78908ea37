"""Chats: list per character, create (with the greeting), read with messages, rename, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from pytavern.engine.transfer import PRIVATE_METADATA, export_chat, import_chat
from pytavern.server.deps import EngineDep, StoreDep
from pytavern.server.routes.characters import download, read_limited, safe_filename
from pytavern.server.uploads import upload_name
from pytavern.store import ChatRecord, MessageRecord, SwipeRecord

router = APIRouter(tags=["chats"])
_JSONL = {
    "requestBody": {
        "required": True,
        "content": {"application/jsonl": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class ChatRename(BaseModel):
    """A chat's new title."""

    title: str = Field(min_length=1, max_length=200)


def chat_public(chat: ChatRecord) -> dict[str, Any]:
    """A chat as the API shows it."""
    return {
        "id": chat.id,
        "character_id": chat.character_id,
        "title": chat.title,
        "message_count": chat.message_count,
        "metadata": {k: v for k, v in chat.metadata.items() if k not in PRIVATE_METADATA},
        "created_at": chat.created_at.isoformat(),
        "updated_at": chat.updated_at.isoformat(),
    }


def swipe_public(swipe: SwipeRecord) -> dict[str, Any]:
    """One swipe as the API shows it."""
    return {
        "index": swipe.index,
        "text": swipe.text,
        "status": swipe.status,
        "reasoning": swipe.reasoning,
        "finish_reason": swipe.finish_reason,
        "error": swipe.error,
        "model": swipe.model,
        "connection": swipe.connection,
        "usage": swipe.usage,
    }


def message_public(message: MessageRecord) -> dict[str, Any]:
    """A message with the swipe it shows."""
    return {
        "id": message.id,
        "chat_id": message.chat_id,
        "position": message.position,
        "role": message.role,
        "name": message.name,
        "text": message.text,
        "active_swipe": message.active_swipe,
        "swipe_count": message.swipe_count,
        "swipe": swipe_public(message.swipe),
    }


@router.get("/characters/{character_id}/chats")
async def list_chats(character_id: int, store: StoreDep) -> list[dict[str, Any]]:
    """A character's chats, most recently active first."""
    store.get_character(character_id)
    return [chat_public(chat) for chat in store.list_chats(character_id)]


@router.post("/characters/{character_id}/chats", status_code=201)
async def create_chat(character_id: int, engine: EngineDep) -> dict[str, Any]:
    """Start a chat; it opens with the character's greeting."""
    chat = engine.start_chat(character_id)
    return _with_messages(engine.store, chat, 200)


@router.post("/characters/{character_id}/chats/import", status_code=201, openapi_extra=_JSONL)
async def import_chat_file(
    character_id: int, request: Request, store: StoreDep, filename: str = "chat.jsonl"
) -> dict[str, Any]:
    """Import a SillyTavern chat (JSONL) as a new chat of the character."""
    store.get_character(character_id)
    data = await read_limited(request)
    chat = import_chat(store, data, upload_name(filename, "chat.jsonl"), character_id)
    return chat_public(chat)


@router.get(
    "/chats/{chat_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/jsonl": {}}}},
)
async def export_chat_file(chat_id: int, store: StoreDep) -> Response:
    """Download the chat as SillyTavern JSONL."""
    chat = store.get_chat(chat_id)
    name = safe_filename(chat.title or f"chat-{chat_id}")
    return download(export_chat(store, chat_id), "application/jsonl", f"{name}.jsonl")


@router.get("/chats/{chat_id}")
async def get_chat(
    chat_id: int,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """A chat with its newest ``limit`` messages (each with its shown swipe)."""
    return _with_messages(store, store.get_chat(chat_id), limit)


@router.patch("/chats/{chat_id}")
async def rename_chat(chat_id: int, body: ChatRename, store: StoreDep) -> dict[str, Any]:
    """Rename a chat."""
    return chat_public(store.update_chat(chat_id, title=body.title.strip()))


@router.delete("/chats/{chat_id}", status_code=204)
async def delete_chat(chat_id: int, store: StoreDep) -> Response:
    """Delete a chat and its messages."""
    store.delete_chat(chat_id)
    return Response(status_code=204)


def _with_messages(store: StoreDep, chat: ChatRecord, limit: int) -> dict[str, Any]:
    messages = store.history(chat.id, limit=limit)
    return chat_public(chat) | {"messages": [message_public(m) for m in messages]}
