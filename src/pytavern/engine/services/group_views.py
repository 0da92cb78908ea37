"""What the group service answers: groups, members, replies and turns as faces show them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytavern.engine.services.generation import TurnResult
from pytavern.errors import ConfigError

GENERATION_MODES = {"swap": 0, "join": 1, "join-muted": 2}


@dataclass(frozen=True, slots=True)
class MemberView:
    """A member as faces show it."""

    character_id: int
    name: str
    avatar: str
    muted: bool
    talkativeness: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "character_id": self.character_id,
            "name": self.name,
            "avatar": self.avatar,
            "muted": self.muted,
            "talkativeness": self.talkativeness,
        }


@dataclass(frozen=True, slots=True)
class GroupView:
    """A group as faces show it."""

    id: int
    name: str
    chat_id: int | None
    members: list[MemberView]
    activation_strategy: str
    generation_mode: str
    allow_self_responses: bool
    auto_mode_delay: int
    join_prefix: str
    join_suffix: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "chat_id": self.chat_id,
            "members": [m.to_dict() for m in self.members],
            "activation_strategy": self.activation_strategy,
            "generation_mode": self.generation_mode,
            "allow_self_responses": self.allow_self_responses,
            "auto_mode_delay": self.auto_mode_delay,
            "join_prefix": self.join_prefix,
            "join_suffix": self.join_suffix,
        }


@dataclass(frozen=True, slots=True)
class GroupReply:
    """One member's answer in a group turn."""

    speaker: str
    character_id: int
    result: TurnResult

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``speaker`` and ``text``, as ``send --group --json`` prints)."""
        error = self.result.error
        return {
            "speaker": self.speaker,
            "character_id": self.character_id,
            "text": self.result.reply,
            "finish_reason": self.result.finish_reason,
            "message_id": self.result.message_id,
            "error": None if error is None else {"message": error.message, "hint": error.hint},
        }


@dataclass
class GroupTurn:
    """What a group turn produced: the replies, in the order the members answered."""

    group_id: int
    chat_id: int
    replies: list[GroupReply] = field(default_factory=list)

    @property
    def failed(self) -> GroupReply | None:
        """The reply whose generation failed (the turn stops there), if any."""
        return next((r for r in self.replies if r.result.error is not None), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "group_id": self.group_id,
            "chat_id": self.chat_id,
            "replies": [r.to_dict() for r in self.replies],
        }


def name_of(mapping: dict[str, int], value: int) -> str:
    """The name ``value`` has in ``mapping`` (the number as text when it has none)."""
    return next((k for k, v in mapping.items() if v == value), str(value))


def choice(mapping: dict[str, int], value: str, what: str) -> int:
    """The number named ``value``; a clear error for an unknown name."""
    if value not in mapping:
        raise ConfigError(f"unknown {what} {value!r}", hint=f"Use one of: {', '.join(mapping)}")
    return mapping[value]
