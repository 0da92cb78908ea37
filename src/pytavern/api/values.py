"""The values the Python API answers with: replies, messages, characters, documents."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pytavern.engine.services import (
    CharacterRecord,
    DocumentRecord,
    MessageRecord,
    Services,
    TurnResult,
)
from pytavern.engine.services.group_views import GroupTurn
from pytavern.settings import Settings
from pytavern.types import Usage

DataDir = str | os.PathLike[str] | None
"""A data folder: a path, or None for ``PYTAVERN_DATA_DIR`` or the user data folder."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A finished reply: its text as saved (after ``continue_``, the whole extended reply),
    why it ended, the tokens it took, the id of the message it is in, and what the backend
    told about its answer besides the text (``details``: Perplexity's ``citations``, the
    AI Horde's ``worker``; often empty). ``summary_due``: the chat has had the summary
    settings' ``every`` messages since its summary (``summarize()`` makes a new one)."""

    text: str
    finish_reason: str
    usage: Usage
    message_id: int | None
    model: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    summary_due: bool = False


@dataclass(frozen=True, slots=True)
class MemberReply:
    """One member's reply in a group chat turn: who spoke (name and character id) and
    the reply."""

    speaker: str
    character_id: int
    reply: Reply

    @property
    def text(self) -> str:
        """The reply's text (``reply.text``)."""
        return self.reply.text


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a chat, with the swipe it shows."""

    id: int
    role: str
    name: str
    text: str
    status: str
    swipe_index: int
    swipe_count: int

    @property
    def is_user(self) -> bool:
        """True for the user's own messages."""
        return self.role == "user"


@dataclass(frozen=True, slots=True)
class Character:
    """A character: its id, name and SillyTavern card (a V2/V3 dict)."""

    id: int
    name: str
    card: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Document:
    """A Data Bank document, without its text (``tavern.databank.text(id)`` reads it):
    whose it is (``scope``: every chat's, a character's chats' with ``character_id``, or
    one chat's with ``chat_id``), whether the prompt uses it, its length in characters and
    the number of chunks it was cut into."""

    id: int
    name: str
    scope: Literal["global", "character", "chat"]
    character_id: int | None
    chat_id: int | None
    enabled: bool
    length: int
    chunks: int


def message_of(record: MessageRecord) -> Message:
    """The public view of a stored message."""
    return Message(
        id=record.id,
        role=record.role,
        name=record.name,
        text=record.text,
        status=record.swipe.status,
        swipe_index=record.active_swipe,
        swipe_count=record.swipe_count,
    )


def character_of(record: CharacterRecord) -> Character:
    """The public view of a stored character."""
    return Character(id=record.id, name=record.name, card=record.card)


def document_of(record: DocumentRecord) -> Document:
    """The public view of a stored document."""
    return Document(
        id=record.id,
        name=record.name,
        scope=record.scope,
        character_id=record.character_id,
        chat_id=record.chat_id,
        enabled=record.enabled,
        length=record.length,
        chunks=record.chunks,
    )


def reply_of(result: TurnResult, services: Services) -> Reply:
    """The reply of a finished turn; the turn's error is raised."""
    result.raise_error()
    saved = result.message_id
    return Reply(
        text=services.messages.get(saved).text if saved is not None else result.reply,
        finish_reason=result.finish_reason,
        usage=result.usage,
        message_id=result.message_id,
        model=result.model,
        details=result.details,
        summary_due=result.summary_due,
    )


def member_replies_of(turn: GroupTurn, services: Services) -> list[MemberReply]:
    """The replies of a group turn, in the order the members spoke; a member's failed
    turn raises its error (the members before it have answered, and the chat keeps it)."""
    return [
        MemberReply(r.speaker, r.character_id, reply_of(r.result, services)) for r in turn.replies
    ]


def settings_for(data_dir: DataDir) -> Settings:
    """Settings for a data folder (the environment's when None)."""
    return Settings(data_dir=Path(data_dir)) if data_dir is not None else Settings()
