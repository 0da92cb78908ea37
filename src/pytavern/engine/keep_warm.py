"""Keep-warm pings: a chat left idle keeps its Claude prompt cache until the user is back.

Claude's prompt cache expires 5 minutes (or an hour) after its last read; a user who takes
longer to answer pays the whole prefix again at the cache-write price. A connection with
``keep_warm_pings`` set has the chat's last request sent again for one token shortly before
the cache would expire, that many times at most (SillyTavern users asked for this:
SillyTavern#3848). A new turn of the chat cancels what is pending, and the ping count starts
again after it. A failed ping ends the chat's pings (nothing is retried while nobody is
there). Every ping is a request in the usage ledger (``outcome: keep-warm``, with its cost),
never a message: the chat is not touched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from pytavern.errors import PytavernError

log = logging.getLogger(__name__)

ChatKey = tuple[int, int]
"""A chat as the pings know it: its owner and its id."""


class KeepWarm:
    """The pending pings of every chat, one task per chat."""

    def __init__(self) -> None:
        self._tasks: dict[ChatKey, asyncio.Task[None]] = {}

    def pending(self, chat: ChatKey) -> bool:
        """Whether pings are scheduled for ``chat``."""
        task = self._tasks.get(chat)
        return task is not None and not task.done()

    def stop(self, chat: ChatKey) -> None:
        """Cancel ``chat``'s pings (a new turn starts, or the chat is gone)."""
        task = self._tasks.pop(chat, None)
        if task is not None:
            task.cancel()

    def start(
        self, chat: ChatKey, pings: int, seconds: float, ping: Callable[[], Awaitable[None]]
    ) -> None:
        """Send ``ping`` ``pings`` times, ``seconds`` apart, until ``stop`` or a failure
        (what was pending for ``chat`` is cancelled first)."""
        self.stop(chat)
        if pings > 0:
            task = asyncio.get_running_loop().create_task(self._run(chat, pings, seconds, ping))
            self._tasks[chat] = task

    async def _run(
        self, chat: ChatKey, pings: int, seconds: float, ping: Callable[[], Awaitable[None]]
    ) -> None:
        try:
            for _ in range(pings):
                await asyncio.sleep(seconds)
                await ping()
        except PytavernError as error:
            log.warning("chat %s: a keep-warm ping failed, no more are sent: %s", chat[1], error)
        except Exception:
            log.exception("chat %s: a keep-warm ping failed, no more are sent", chat[1])
        finally:
            if self._tasks.get(chat) is asyncio.current_task():
                del self._tasks[chat]

    async def aclose(self) -> None:
        """Cancel every pending ping and wait for them to end."""
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
