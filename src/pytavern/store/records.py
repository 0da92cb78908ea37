"""Plain values the store hands out; ORM rows never leave ``store/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

SwipeStatus = Literal["complete", "incomplete", "error"]
"""``incomplete``: the reply was cut short (stopped, stream broke) and kept as it was."""


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    """A stored connection (its key is in the secret store, not here)."""

    id: int
    name: str
    api: str
    url: str | None
    model: str | None
    options: dict[str, Any]
    is_default: bool


@dataclass(frozen=True, slots=True)
class CharacterRecord:
    """A stored character: ``card`` is the SillyTavern card as a dict, every field kept."""

    id: int
    name: str
    card: dict[str, Any]
    has_avatar: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ChatRecord:
    """A stored chat."""

    id: int
    character_id: int
    title: str
    metadata: dict[str, Any]
    message_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SwipeRecord:
    """One alternative text of a message."""

    index: int
    text: str
    status: SwipeStatus
    reasoning: str = ""
    finish_reason: str | None = None
    error: str | None = None
    model: str | None = None
    connection: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A stored message with the swipe currently shown."""

    id: int
    chat_id: int
    position: int
    role: str
    name: str
    active_swipe: int
    swipe_count: int
    swipe: SwipeRecord
    extra: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    chat_revision: int | None = field(default=None, compare=False)
    """On a record a write returns: the chat's revision that write made (see
    ``ChatRow.revision``); ``None`` on records that were read."""

    @property
    def text(self) -> str:
        """The text of the swipe shown."""
        return self.swipe.text

    @property
    def is_user(self) -> bool:
        """True for the user's messages."""
        return self.role == "user"

    @property
    def is_hidden(self) -> bool:
        """Whether the message is left out of the prompt (``hidden_in`` its ``extra``)."""
        return hidden_in(self.extra)


def hidden_in(extra: object) -> bool:
    """Whether a message's ``extra`` marks it hidden from the prompt: SillyTavern's
    ``is_system`` on the message's JSONL line, kept under ``st``."""
    st = extra.get("st") if isinstance(extra, dict) else None
    return isinstance(st, dict) and bool(st.get("is_system"))


@dataclass(frozen=True, slots=True)
class PersonaRecord:
    """A stored persona. ``position`` uses SillyTavern's codes (0 in prompt, 2/3 author's
    note top/bottom, 4 at depth, 9 none); ``role`` 0 system, 1 user, 2 assistant."""

    id: int
    name: str
    description: str
    position: int
    depth: int
    role: int
    lorebook: str | None
    has_avatar: bool
    is_default: bool


@dataclass(frozen=True, slots=True)
class LorebookRecord:
    """A stored lorebook: ``data`` is the SillyTavern World Info dict."""

    id: int
    name: str
    data: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PresetRecord:
    """A stored preset of one ``kind`` (instruct, context, sysprompt, sampler)."""

    id: int
    kind: str
    name: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class UserRecord:
    """An account; ``password_hash`` stays inside the server."""

    id: int
    name: str
    password_hash: str = field(repr=False)
    is_admin: bool
    enabled: bool


@dataclass(frozen=True, slots=True)
class AddedMessage:
    """A message to add at the end of a chat, with its first swipe's text and fields."""

    role: str
    name: str
    text: str
    status: SwipeStatus = "complete"
    extra: dict[str, Any] | None = None
    swipe_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to import: its swipes (the texts), which one is shown, and extras."""

    role: str
    name: str
    swipes: list[str]
    active_swipe: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
