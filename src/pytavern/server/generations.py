"""Running generations and their SSE stream to the browser.

Each ``POST /api/chats/{id}/generate`` becomes a ``Generation``: an asyncio task that pumps
the engine's events to the client as SSE, in pytavern's own dialect
(``event: text|reasoning|status|usage|error|finished``, ``data:`` JSON). A client disconnect
or ``stop()`` cancels that task; the engine's generator is closed on the way out, which stops
the upstream request and keeps the partial reply, marked incomplete.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing, suppress
from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from pytavern.errors import PytavernError
from pytavern.events import StreamEvent, TextDelta, event_to_dict

SSE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
CANCELLED: dict[str, Any] = {"type": "finished", "reason": "cancelled", "model": None}
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_event(event: StreamEvent) -> bytes:
    """One SSE frame for ``event`` (a fast path for text, the hot case)."""
    if type(event) is TextDelta:
        return b'event: text\ndata: {"type":"text","text":' + _dumps(event.text).encode() + b"}\n\n"
    return frame(event.type, event_to_dict(event))


def frame(kind: str, data: dict[str, Any]) -> bytes:
    """One SSE frame of event ``kind`` with JSON ``data``."""
    return b"event: " + kind.encode() + b"\ndata: " + _dumps(data).encode() + b"\n\n"


def error_frames(error: PytavernError) -> bytes:
    """The frames that end a stream which failed before the engine could report it."""
    return frame("error", {"type": "error", "kind": error.kind, **_error_fields(error)}) + frame(
        "finished", {"type": "finished", "reason": "error", "model": None}
    )


def _error_fields(error: PytavernError) -> dict[str, Any]:
    return {"message": error.message, "hint": error.hint, "retryable": error.retryable}


class Generation(Response):
    """One streaming generation: an ASGI response that can be stopped from elsewhere."""

    media_type = "text/event-stream"

    def __init__(
        self,
        generation_id: str,
        events: AsyncIterator[StreamEvent],
        on_done: Callable[[], None] = lambda: None,
        status_code: int = 200,
        owner: int = 0,
    ) -> None:
        self.id = generation_id
        self.owner = owner
        self._events = events
        self._on_done = on_done
        self._task: asyncio.Task[None] | None = None
        self.stopped = False
        self._buffer: list[bytes] = []
        self._ready = asyncio.Event()
        self._ended = False
        self.status_code = status_code
        self.background = None

    def prepend(self, event: StreamEvent) -> None:
        """Send ``event`` first (the event the route already took from the stream)."""
        self._buffer.insert(0, encode_event(event))
        self._ready.set()

    def stop(self) -> None:
        """Stop the generation: the upstream request ends, the partial reply is kept."""
        self.stopped = True
        if self._task is not None:
            self._task.cancel()

    async def __call__(self, _scope: Scope, receive: Receive, send: Send) -> None:
        """Stream the events until they end, the client leaves or ``stop()`` is called."""
        headers = [*SSE_HEADERS, (b"x-generation-id", self.id.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if self._buffer:  # the first event goes out before the pump stores the reply
            first = b"".join(self._buffer)
            self._buffer.clear()
            await send({"type": "http.response.body", "body": first, "more_body": True})
        self._task = pump = asyncio.create_task(self._pump())
        writer = asyncio.create_task(self._write(send))
        watcher = asyncio.create_task(self._watch(receive))
        try:
            await asyncio.wait({pump, writer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            if not pump.done():
                pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
            self._finish(pump)
            await asyncio.gather(writer, return_exceptions=True)
            self._on_done()
        if not writer.cancelled() and writer.exception() is None:
            await _send_quietly(send, b"", more=False)
        if self.background is not None:
            await self.background()

    def _finish(self, pump: asyncio.Task[None]) -> None:
        if self.stopped and pump.cancelled():
            self._buffer.append(frame("finished", CANCELLED))
        self._ended = True
        self._ready.set()

    async def _watch(self, receive: Receive) -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                if self._task is not None:
                    self._task.cancel()
                return

    async def _pump(self) -> None:
        """Turn events into SSE frames; a burst of events becomes one write."""
        buffer, ready = self._buffer, self._ready
        try:
            async with aclosing(self._events) as events:  # type: ignore[type-var]
                async for event in events:
                    buffer.append(encode_event(event))
                    ready.set()
        except PytavernError as error:
            buffer.append(error_frames(error))
            ready.set()

    async def _write(self, send: Send) -> None:
        """Send what the pump produced, as it comes; ends when the pump has ended."""
        buffer, ready = self._buffer, self._ready
        while True:
            if not buffer:
                if self._ended:
                    return
                await ready.wait()
                ready.clear()
                continue
            chunk = buffer[0] if len(buffer) == 1 else b"".join(buffer)
            buffer.clear()
            await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _send_quietly(send: Send, body: bytes, *, more: bool = True) -> None:
    with suppress(OSError, RuntimeError):
        await send({"type": "http.response.body", "body": body, "more_body": more})


class Generations:
    """The generations running in this process, by id."""

    def __init__(self) -> None:
        self._running: dict[str, Generation] = {}

    def start(
        self, events: AsyncIterator[StreamEvent], owner: int = 0, first: StreamEvent | None = None
    ) -> Generation:
        """Register a new generation over ``events`` (``first`` already taken from them)."""
        generation_id = secrets.token_urlsafe(9)
        generation = Generation(
            generation_id, events, lambda: self.discard(generation_id), owner=owner
        )
        if first is not None:
            generation.prepend(first)
        self._running[generation_id] = generation
        return generation

    def get(self, generation_id: str, owner: int = 0) -> Generation | None:
        """The running generation with this id started by ``owner``, if any."""
        generation = self._running.get(generation_id)
        return generation if generation is not None and generation.owner == owner else None

    def discard(self, generation_id: str) -> None:
        """Forget a finished generation."""
        self._running.pop(generation_id, None)

    def stop_all(self) -> None:
        """Stop every running generation (server shutdown)."""
        for generation in list(self._running.values()):
            generation.stop()

    def __len__(self) -> int:
        return len(self._running)
