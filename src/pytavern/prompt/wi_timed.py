"""World Info timed effects (sticky, cooldown, delay), as immutable state in and out.

The state matches SillyTavern's ``chat_metadata.timedWorldInfo``: per effect type, a map
from ``"<book>.<uid>"`` to ``{hash, start, end, protected}`` where start and end are chat
message counts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytavern.formats.worldinfo import WorldInfoEntry


@dataclass(frozen=True, slots=True)
class TimedEffect:
    """One running effect: active from chat length ``start`` until ``end``."""

    hash: str
    start: int
    end: int
    protected: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form (SillyTavern's shape)."""
        return {
            "hash": self.hash,
            "start": self.start,
            "end": self.end,
            "protected": self.protected,
        }


METADATA_KEY = "timedWorldInfo"
"""Where SillyTavern (and pytavern) keep a chat's sticky and cooldown state in its metadata."""


@dataclass(frozen=True, slots=True)
class TimedState:
    """Sticky and cooldown effects keyed by ``"<book>.<uid>"``."""

    sticky: Mapping[str, TimedEffect] = field(default_factory=dict)
    cooldown: Mapping[str, TimedEffect] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form, for ``chat_metadata["timedWorldInfo"]``."""
        return {
            "sticky": {k: v.to_dict() for k, v in self.sticky.items()},
            "cooldown": {k: v.to_dict() for k, v in self.cooldown.items()},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> TimedState:
        """Read ``chat_metadata["timedWorldInfo"]`` (invalid items are dropped)."""
        raw = raw or {}
        return cls(_effects(raw.get("sticky")), _effects(raw.get("cooldown")))


def _effects(raw: Any) -> dict[str, TimedEffect]:
    out: dict[str, TimedEffect] = {}
    if isinstance(raw, dict):
        for key, v in raw.items():
            if isinstance(v, dict) and "end" in v:
                start, end = int(v.get("start", 0)), int(v["end"])
                out[str(key)] = TimedEffect(
                    str(v.get("hash", "")), start, end, bool(v.get("protected"))
                )
    return out


def entry_hash(entry: WorldInfoEntry) -> str:
    """A stable hash of the entry's definition (recorded with each effect)."""
    raw = entry.raw if entry.raw is not None else {"uid": entry.uid, "content": entry.content}
    text = json.dumps(raw, sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


class TimedEffects:
    """Evaluates and updates timed effects for one scan (``WorldInfoTimedEffects``)."""

    def __init__(self, state: TimedState, chat_length: int, entries: Sequence[WorldInfoEntry]):
        self.chat_length = chat_length
        self.by_key = {e.key_id: e for e in entries}
        self.entries = entries
        self.sticky = dict(state.sticky)
        self.cooldown = dict(state.cooldown)
        self.active: dict[str, set[str]] = {"sticky": set(), "cooldown": set(), "delay": set()}

    def check(self) -> None:
        """Expire finished effects and mark the active ones (runs before scanning)."""
        self._check_type("sticky", self.sticky)
        self._check_type("cooldown", self.cooldown)
        for e in self.entries:
            if e.delay and self.chat_length < e.delay:
                self.active["delay"].add(e.key_id)

    def _check_type(self, kind: str, effects: dict[str, TimedEffect]) -> None:
        for key, eff in list(effects.items()):
            entry = self.by_key.get(key)
            if self.chat_length <= eff.start and not eff.protected:
                del effects[key]
            elif entry is None:
                if self.chat_length >= eff.end:
                    del effects[key]
            elif not getattr(entry, kind):
                del effects[key]
            elif self.chat_length >= eff.end:
                del effects[key]
                if kind == "sticky" and entry.cooldown:
                    self.cooldown[key] = self._effect(entry, entry.cooldown, protected=True)
                    self.active["cooldown"].add(key)
            else:
                self.active[kind].add(key)

    def _effect(self, entry: WorldInfoEntry, length: int, protected: bool) -> TimedEffect:
        end = self.chat_length + length
        return TimedEffect(entry_hash(entry), self.chat_length, end, protected)

    def is_active(self, kind: str, entry: WorldInfoEntry) -> bool:
        """Whether ``kind`` (sticky, cooldown, delay) applies to the entry now."""
        return entry.key_id in self.active[kind]

    def record(self, activated: Sequence[WorldInfoEntry]) -> None:
        """Start sticky/cooldown effects for newly activated entries (after scanning)."""
        for e in activated:
            if e.sticky and e.key_id not in self.sticky:
                self.sticky[e.key_id] = self._effect(e, e.sticky, protected=False)
            if e.cooldown and e.key_id not in self.cooldown:
                self.cooldown[e.key_id] = self._effect(e, e.cooldown, protected=False)

    def state(self) -> TimedState:
        """The state to store for the next turn."""
        return TimedState(dict(self.sticky), dict(self.cooldown))
