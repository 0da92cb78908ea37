"""The prompt view of the last reply, and token counts with the connection's tokenizer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from pytavern.engine.prompting import pick_tokenizer
from pytavern.prompt.tokens import CharRatioTokenizer
from pytavern.server.deps import EngineDep

router = APIRouter(tags=["prompt"])


class TokenizeBody(BaseModel):
    """Text to count tokens of, with the tokenizer of ``connection`` (default: the default)."""

    text: str = Field(max_length=2_000_000)
    connection: str | None = None


@router.get("/chats/{chat_id}/prompt")
async def prompt_view(chat_id: int, engine: EngineDep) -> dict[str, Any]:
    """Where the tokens of the last reply's prompt went, and which lorebook entries fired.

    ``available`` is false until a reply has been generated in this chat.
    """
    chat = engine.store.get_chat(chat_id)
    last = chat.metadata.get("last_prompt")
    if not isinstance(last, dict):
        return {"available": False, "chat_id": chat_id}
    return {"available": True, "chat_id": chat_id, **last}


@router.post("/tokenize")
async def tokenize(body: TokenizeBody, engine: EngineDep) -> dict[str, Any]:
    """How many tokens ``text`` takes with the connection's tokenizer."""
    try:
        record, provider = await engine.provider(body.connection)
        tokenizer = pick_tokenizer(record, provider)
    except Exception:
        tokenizer = CharRatioTokenizer(3.35)
    return {"tokens": tokenizer.count(body.text), "method": type(tokenizer).__name__}
