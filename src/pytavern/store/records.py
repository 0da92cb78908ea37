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

    @property
    def text(self) -> str:
        """The text of the swipe shown."""
        return self.swipe.text

    @property
    def is_user(self) -> bool:
        """True for the user's messages."""
        return self.role == "user"
