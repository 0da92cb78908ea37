"""Which generation runs in which server process, for servers sharing one PostgreSQL.

The server's relay asks this registry (never the store directly): a row per generation is
written when it starts and marked when it ends, so another process can find a chat's running
generation or check who may stop one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytavern.store.generations import (
    GenerationRow,
    find_generation,
    record_ended,
    record_started,
    running_in_chat,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine as SqlEngine

    from pytavern.engine import Engine

__all__ = ["GenerationRegistry", "GenerationRow"]


class GenerationRegistry:
    """The generations table of one engine's database."""

    def __init__(self, sql: SqlEngine) -> None:
        self._sql = sql

    @classmethod
    def of(cls, engine: Engine) -> GenerationRegistry:
        """The registry of ``engine``'s database."""
        return cls(engine.store.engine)

    def started(
        self, generation_id: str, *, owner_id: int, chat_id: int, mode: str, started: float
    ) -> None:
        """Note a generation that started (and forget long-ended ones)."""
        record_started(
            self._sql, generation_id, owner_id=owner_id, chat_id=chat_id, mode=mode, started=started
        )

    def ended(self, generation_id: str) -> None:
        """Note that a generation ended."""
        record_ended(self._sql, generation_id)

    def find(self, generation_id: str, owner_id: int) -> GenerationRow | None:
        """The generation ``generation_id`` if ``owner_id`` may see it."""
        return find_generation(self._sql, generation_id, owner_id)

    def running_in_chat(self, chat_id: int, owner_id: int) -> GenerationRow | None:
        """The generation running in ``chat_id`` for ``owner_id``, if any."""
        return running_in_chat(self._sql, chat_id, owner_id)
