"""The prompt view of the last reply, and token counts with the connection's tokenizer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from pytavern.server.deps import ServicesDep

router = APIRouter(prefix="/api", tags=["prompt"])


class TokenizeBody(BaseModel):
    """Text to count tokens of, with the tokenizer of ``connection`` (default: the default)."""

    text: str = Field(max_length=2_000_000)
    connection: str | None = None


@router.get("/chats/{chat_id}/prompt")
async def prompt_view(chat_id: int, services: ServicesDep) -> dict[str, Any]:
    """Where the tokens of the last reply's prompt went, and which lorebook entries fired.

    ``available`` is false until a reply has been generated in this chat.
    """
    last = services.chats.last_prompt(chat_id)
    if last is None:
        return {"available": False, "chat_id": chat_id}
    return {"available": True, "chat_id": chat_id, **last}


@router.post("/tokenize")
async def tokenize(body: TokenizeBody, services: ServicesDep) -> dict[str, Any]:
    """How many tokens ``text`` takes with the connection's tokenizer."""
    count = await services.generation.count_tokens(body.text, body.connection)
    return {"tokens": count.tokens, "method": count.method}
