"""The newest prompt breakdown of each chat, written behind its turn.

A turn's breakdown (what the prompt inspector shows: where the tokens went, and the prompt
itself) is tens of kilobytes. Written with the reply, it cost every turn an overflow chain
of database pages freed and allocated again, about a twelfth of the server's CPU for a
streamed turn. It is a diagnostic record, not the chat: a turn leaves it here, readers
look here first, and ``ChatsMixin.write_prompts`` writes what waits (a few seconds after a
turn, when too many chats wait, and when the store closes), each chat's newest only. A
crash loses the newest breakdowns at most (the inspector then shows an older prompt); a
chat's messages are never held back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MakeBreakdown = Callable[[], dict[str, Any]]
"""Makes a breakdown when it is first needed (most are only ever written)."""

WAITING_LIMIT = 256
"""Chats whose breakdowns may wait; ``crowded`` says when to write them sooner."""


@dataclass(slots=True)
class WaitingPrompt:
    """One chat's newest breakdown, not written yet."""

    chat_id: int
    owner_id: int
    make: MakeBreakdown
    made: dict[str, Any] | None = None

    def breakdown(self) -> dict[str, Any]:
        """The breakdown (made on the first call)."""
        if self.made is None:
            self.made = self.make()
        return self.made


class PendingPrompts:
    """Breakdowns waiting to be written, the newest per chat (thread-safe)."""

    def __init__(self) -> None:
        self._waiting: dict[int, WaitingPrompt] = {}
        self._lock = threading.Lock()

    def keep(self, owner_id: int, chat_id: int, make: MakeBreakdown) -> None:
        """Keep ``chat_id``'s newest breakdown (replacing one that waits)."""
        with self._lock:
            self._waiting.pop(chat_id, None)
            self._waiting[chat_id] = WaitingPrompt(chat_id, owner_id, make)

    def crowded(self) -> bool:
        """Whether ``WAITING_LIMIT`` chats wait (write them now rather than later)."""
        return len(self._waiting) >= WAITING_LIMIT

    def get(self, owner_id: int, chat_id: int) -> dict[str, Any] | None:
        """The breakdown waiting for ``chat_id`` if ``owner_id`` owns it, else ``None``."""
        with self._lock:
            waiting = self._waiting.get(chat_id)
        if waiting is None or waiting.owner_id != owner_id:
            return None
        return waiting.breakdown()

    def take(self) -> list[WaitingPrompt]:
        """Every waiting breakdown, oldest first; none wait after."""
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        return list(waiting.values())

    def put_back(self, taken: list[WaitingPrompt]) -> None:
        """Requeue breakdowns whose write failed, unless a newer one waits."""
        with self._lock:
            for item in taken:
                self._waiting.setdefault(item.chat_id, item)

    def __bool__(self) -> bool:
        return bool(self._waiting)
