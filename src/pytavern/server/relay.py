"""What the routes ask of a cross-process relay (several servers on one PostgreSQL).

A generation runs in the process that started it; a relay lets another process find it,
replay and follow its frames, and stop it. SQLite (one process) has none.
"""

from __future__ import annotations

from typing import Protocol

from pytavern.server.generations import GenerationLog


class Relay(Protocol):
    """Generations of the other server processes on the same database."""

    async def running_in(self, chat_id: int, owner: int) -> GenerationLog | None:
        """The generation another process runs in this chat, followed here, if any."""
        ...

    async def attach(self, generation_id: str, owner: int) -> GenerationLog | None:
        """Follow another process's generation (running or recently ended), if it exists."""
        ...

    async def stop(self, generation_id: str, owner: int) -> bool:
        """Ask the process running the generation to stop it; whether it runs somewhere."""
        ...

    async def aclose(self) -> None:
        """Stop listening and close the relay's connections."""
        ...
