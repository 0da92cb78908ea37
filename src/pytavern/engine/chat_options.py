"""A chat's own settings, kept in its metadata under SillyTavern's keys (so they survive
export and import): the lorebook bound to the chat (``world_info``) and the chat's author's
note (``note_prompt``, ``note_depth``, ``note_interval``, ``note_role``); and its summary
(``summary``, see ``pytavern.engine.summaries``).

A chat's note, when it has text, is used instead of the author's note in the settings.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pytavern.engine.preferences import AuthorNote
from pytavern.engine.summaries import METADATA_KEY as SUMMARY_KEY
from pytavern.engine.summaries import summary_at, summary_entry, summary_text
from pytavern.store import ChatRecord, MessageRecord

ROLES: tuple[Literal["system", "user", "assistant"], ...] = ("system", "user", "assistant")


class ChatOptions(BaseModel):
    """What a chat sets for itself; ``None`` leaves a key as it is when changing."""

    # built at import, unlike the settings models: a route takes it as its whole body, and
    # FastAPI's adapter over a model built late warns when the OpenAPI schema is made
    model_config = ConfigDict(extra="forbid")

    world_info: str | None = Field(default=None, max_length=200)
    note_prompt: str | None = Field(default=None, max_length=100_000)
    note_depth: int | None = Field(default=None, ge=0, le=10_000)
    note_interval: int | None = Field(default=None, ge=0, le=10_000)
    note_role: Literal["system", "user", "assistant"] | None = None
    summary: str | None = Field(default=None, max_length=100_000)
    """The chat's summary as the user wrote it ("" removes it)."""


def chat_options(metadata: dict[str, Any]) -> dict[str, Any]:
    """The chat's settings as the API shows them (empty strings / defaults when unset)."""
    note = chat_author_note(metadata, AuthorNote())
    return {
        "world_info": str(metadata.get("world_info") or ""),
        "note_prompt": note.text,
        "note_depth": note.depth,
        "note_interval": note.frequency,
        "note_role": note.role,
        "summary": summary_text(metadata),
        "summary_at": summary_at(metadata),
    }


def metadata_changes(
    options: ChatOptions, chat: ChatRecord, newest: MessageRecord | None
) -> dict[str, Any]:
    """The metadata keys to set for ``options`` (an empty lorebook name unbinds it); an
    edited summary counts as made now, at the chat's ``newest`` message."""
    changes = options.model_dump(exclude_none=True, exclude={"summary"})
    if options.summary is not None:
        changes[SUMMARY_KEY] = summary_entry(
            options.summary,
            chat.message_count,
            message_id=newest.id if newest is not None else None,
            replacing=chat.metadata.get(SUMMARY_KEY),
            edited=True,
        )
    return changes


def chat_author_note(metadata: dict[str, Any], default: AuthorNote) -> AuthorNote:
    """The author's note for a turn: the chat's own when it has text, else ``default``."""
    text = metadata.get("note_prompt")
    if not isinstance(text, str) or not text.strip():
        return default
    role = metadata.get("note_role")
    return AuthorNote(
        text=text,
        depth=_count(metadata.get("note_depth"), default.depth),
        frequency=_count(metadata.get("note_interval"), default.frequency),
        role=role if role in ROLES else _role_from_code(role, default.role),
    )


def _count(value: object, fallback: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else fallback
    )


def _role_from_code(value: object, fallback: Literal["system", "user", "assistant"]) -> Any:
    """SillyTavern may store the role as a number (0 system, 1 user, 2 assistant)."""
    if isinstance(value, int) and 0 <= value < len(ROLES):
        return ROLES[value]
    return fallback
