"""An event loop in a background thread, so the synchronous API works from any script."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Awaitable, Iterator
from typing import TypeVar

T = TypeVar("T")


class Portal:
    """An event loop in a background thread, and calls into it from other threads."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pytavern", daemon=True)
        self._thread.start()

    def call(self, awaitable: Awaitable[T]) -> T:
        """Run ``awaitable`` on the loop and wait for its result. When the wait is broken
        (Ctrl-C), the work is cancelled and its cleanup finished before this raises."""
        done = threading.Event()

        async def tracked() -> T:
            try:
                return await awaitable
            finally:
                done.set()

        future = asyncio.run_coroutine_threadsafe(tracked(), self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            done.wait(timeout=30)
            raise

    def iterate(self, generator: AsyncGenerator[T]) -> Iterator[T]:
        """Iterate an async generator from this thread; it is closed however iteration ends."""
        try:
            while True:
                try:
                    yield self.call(anext(generator))
                except StopAsyncIteration:
                    return
        finally:
            self.call(generator.aclose())

    @property
    def closed(self) -> bool:
        """Whether the loop has been stopped."""
        return self._loop.is_closed()

    def close(self) -> None:
        """Stop the loop and its thread."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        if not self._thread.is_alive():
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()
