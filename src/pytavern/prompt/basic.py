"""A small, pure chat-completion prompt from a card and the newest history.

This is the fallback the engine uses when no prompt preset is configured: SillyTavern's
default main prompt, the card's fields and example dialogue in one system message, then as
much history as fits a character budget (newest first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytavern.types import ChatMessage, Role

MAIN_PROMPT = "Write {{char}}'s next reply in a fictional chat between {{char}} and {{user}}."
IMPERSONATE_PROMPT = (
    "[Write your next reply from the point of view of {{user}}, using the chat history so far "
    "as a guideline for the writing style of {{user}}. Don't write as {{char}} or system.]"
)
CHARS_PER_TOKEN = 3.35


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One message of the chat as the prompt sees it."""

    role: Role
    text: str
    name: str = ""


def substitute_names(text: str, char: str, user: str) -> str:
    """Replace ``{{char}}``/``{{user}}`` (any case) and legacy ``<BOT>``/``<USER>``."""
    text = re.sub(r"\{\{char\}\}|<BOT>|<CHAR>", lambda _m: char, text, flags=re.IGNORECASE)
    return re.sub(r"\{\{user\}\}|<USER>", lambda _m: user, text, flags=re.IGNORECASE)


def card_fields(card: Mapping[str, Any]) -> dict[str, str]:
    """The text fields of a V1/V2/V3 card dict."""
    data = card.get("data") if isinstance(card.get("data"), dict) else card
    assert isinstance(data, Mapping)
    keys = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
    return {key: str(data.get(key) or "") for key in keys} | {
        "system_prompt": str(data.get("system_prompt") or ""),
        "post_history_instructions": str(data.get("post_history_instructions") or ""),
    }


def system_text(card: Mapping[str, Any], user: str) -> str:
    """The system message: main prompt, card fields and examples."""
    fields = card_fields(card)
    char = fields["name"]
    main = fields["system_prompt"].replace("{{original}}", MAIN_PROMPT) or MAIN_PROMPT
    parts = [main, fields["description"]]
    if fields["personality"]:
        parts.append(f"{char}'s personality: {fields['personality']}")
    if fields["scenario"]:
        parts.append(f"Scenario: {fields['scenario']}")
    if fields["mes_example"]:
        examples = fields["mes_example"].replace("<START>", "[Example Chat]").strip()
        parts.append(examples)
    text = "\n\n".join(part.strip() for part in parts if part.strip())
    return substitute_names(text, char, user)


def build_messages(
    card: Mapping[str, Any],
    history: Sequence[HistoryItem],
    *,
    user: str,
    budget_tokens: int = 1536,
    impersonate: bool = False,
) -> tuple[ChatMessage, ...]:
    """System message plus the newest history that fits ``budget_tokens`` (estimated)."""
    char = card_fields(card)["name"]
    system = ChatMessage("system", system_text(card, user))
    remaining = budget_tokens * CHARS_PER_TOKEN - len(system.content)
    kept: list[ChatMessage] = []
    for item in reversed(history):
        text = substitute_names(item.text, char, user)
        remaining -= len(text)
        if remaining < 0 and kept:
            break
        kept.append(ChatMessage(item.role, text))
    messages = [system, *reversed(kept)]
    post = card_fields(card)["post_history_instructions"]
    if post:
        messages.append(ChatMessage("system", substitute_names(post, char, user)))
    if impersonate:
        messages.append(ChatMessage("system", substitute_names(IMPERSONATE_PROMPT, char, user)))
    return tuple(messages)
