"""The prompt view: what the next reply's prompt holds, and token counts.

Until the prompt engine's itemised breakdown is available this uses the engine's current
prompt builder and a character-ratio token estimate, and says so (``method``).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from pytavern.engine.generation import HISTORY_WINDOW, _role
from pytavern.prompt.basic import CHARS_PER_TOKEN, HistoryItem, build_messages
from pytavern.server.deps import EngineDep

router = APIRouter(tags=["prompt"])
METHOD = "estimate (characters / 3.35)"


class TokenizeBody(BaseModel):
    """Text to count tokens of."""

    text: str = Field(max_length=2_000_000)


def count_tokens(text: str) -> int:
    """Tokens in ``text`` (estimated from its length)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


@router.get("/chats/{chat_id}/prompt")
async def prompt_view(chat_id: int, engine: EngineDep) -> dict[str, Any]:
    """The prompt the next reply in this chat would be sent, with tokens per part."""
    chat = engine.store.get_chat(chat_id)
    card = engine.store.get_character(chat.character_id).card
    history = engine.store.history(chat_id, limit=HISTORY_WINDOW)
    items = [HistoryItem(_role(m), m.text) for m in history]
    messages = build_messages(card, items, user=engine.user_name)
    counts = [count_tokens(m.content) for m in messages]
    parts = [
        {"role": m.role, "content": m.content, "tokens": n}
        for m, n in zip(messages, counts, strict=True)
    ]
    return {
        "method": METHOD,
        "messages": parts,
        "total_tokens": sum(counts),
        "history_in_prompt": len(messages) - 1,
        "history_total": chat.message_count,
        "lorebook_entries": [],
    }


@router.post("/tokenize")
async def tokenize(body: TokenizeBody) -> dict[str, Any]:
    """How many tokens ``text`` takes."""
    return {"tokens": count_tokens(body.text), "method": METHOD}
