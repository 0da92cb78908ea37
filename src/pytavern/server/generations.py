"""Running generations: they belong to the server, not to the request that started them.

Each ``POST /api/chats/{id}/generate`` starts a ``Generation``: an asyncio task that runs the
turn to its end and keeps its events as SSE frames (``id: N``, ``event: text|reasoning|
status|usage|error|finished``, ``data:`` JSON), each encoded once and shared by every
listener. A ``GenerationStream`` is one listener: it sends the frames after a given id, then
the live ones, and ends after ``finished``. A client that leaves ends its listener only; the
turn goes on. ``stop()`` (the Stop endpoint, server shutdown) cancels the turn: the engine's
generator is closed on the way out, which stops the upstream request and keeps the partial
reply, marked incomplete. A finished generation stays replayable for ``grace`` seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, suppress
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from pytavern.errors import PytavernError
from pytavern.events import StreamEvent, TextDelta, event_to_dict

logger = logging.getLogger("pytavern.server")
SSE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
CANCELLED: dict[str, Any] = {"type": "finished", "reason": "cancelled", "model": None}
RELEASE_SECONDS = 1.0
"""The longest a turn waits for its first event to be sent (see ``Generation.release``)."""
_dumps = orjson.dumps
"""Compact JSON as UTF-8 bytes (what ``json`` with ``ensure_ascii=False`` writes)."""
_TEXT_HEAD = b'\nevent: text\ndata: {"type":"text","text":'


class TooManyGenerationsError(PytavernError):
    """The user already runs as many generations as the server allows."""


def encode_event(event: StreamEvent, event_id: int) -> bytes:
    """One SSE frame for ``event`` with id ``event_id`` (a fast path for text, the hot case)."""
    if type(event) is TextDelta:
        return b"id: %d" % event_id + _TEXT_HEAD + _dumps(event.text) + b"}\n\n"
    return frame(event.type, event_to_dict(event), event_id)


def frame(kind: str, data: dict[str, Any], event_id: int) -> bytes:
    """One SSE frame of event ``kind`` with JSON ``data``."""
    head = b"id: %d\nevent: " % event_id
    return head + kind.encode() + b"\ndata: " + _dumps(data) + b"\n\n"


def frame_text(raw: bytes) -> str:
    """The reply text a frame carries ('' unless it is a text frame)."""
    _id, _sep, rest = raw.partition(b"\n")
    if not rest.startswith(b"event: text\n"):
        return ""
    data = rest.split(b"\ndata: ", 1)[1]
    text: str = json.loads(data)["text"]
    return text


class GenerationLog:
    """The frames of one generation, as they come, and the listeners waiting for more."""

    def __init__(self, generation_id: str, owner: int, chat_id: int, mode: str) -> None:
        self.id = generation_id
        self.owner = owner
        self.chat_id = chat_id
        self.mode = mode
        self.started = time.time()
        self.frames: list[bytes] = []
        self.ended = False
        self._waiters: list[asyncio.Future[None]] = []

    def add(self, raw: bytes) -> None:
        """Append one encoded frame and wake the listeners."""
        self.frames.append(raw)
        if self._waiters:
            self._wake()

    def end(self) -> None:
        """No frame follows; listeners finish."""
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def release(self) -> None:
        """A listener has sent the first frames (see ``Generation.release``)."""

    def waiter(self) -> asyncio.Future[None]:
        """A future done when a frame is added or the log ends."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return waiter

    def text(self) -> str:
        """The reply text so far."""
        return "".join(frame_text(raw) for raw in self.frames)

    def info(self) -> dict[str, Any]:
        """What ``GET /api/chats/{id}/generation`` answers."""
        return {
            "id": self.id,
            "chat_id": self.chat_id,
            "mode": self.mode,
            "started": self.started,
            "text": self.text(),
            "last_event_id": len(self.frames),
            "running": not self.ended,
        }


class Generation(GenerationLog):
    """One turn running on the server, whatever its clients do."""

    def __init__(
        self,
        generation_id: str,
        events: AsyncIterator[StreamEvent],
        *,
        owner: int = 0,
        chat_id: int = 0,
        mode: str = "send",
    ) -> None:
        super().__init__(generation_id, owner, chat_id, mode)
        self.stopped = False
        loop = asyncio.get_running_loop()
        self.first = loop.create_future()
        """Done with the first event (``None`` if there is none), or the error before it."""
        self._released: asyncio.Future[None] = loop.create_future()
        self._opener: Callable[[], Awaitable[None]] | None = None
        self._task = asyncio.create_task(self._run(events))

    @property
    def task(self) -> asyncio.Task[None]:
        """The task running the turn."""
        return self._task

    def release(self) -> None:
        """Let the turn go on: its first event has been sent to the client that started it.

        The turn waits for this after its first event, so that event goes out at once and
        is not queued behind the rest of a fast reply and its store writes (the time to
        first token); ``RELEASE_SECONDS`` later it goes on anyway.
        """
        if not self._released.done():
            self._released.set_result(None)

    async def _sent_first(self) -> None:
        released = self._released
        if released.done():
            return
        timer = asyncio.get_running_loop().call_later(RELEASE_SECONDS, self.release)
        try:
            await released
        finally:
            timer.cancel()

    def stop(self) -> None:
        """Stop the generation: the upstream request ends, the partial reply is kept."""
        if not self.ended:
            self.stopped = True
            self._task.cancel()

    def open_with(self, opener: Callable[[], Awaitable[None]] | None) -> None:
        """Have the turn's own task call ``opener`` with its first frame added (it sends the
        answer's head and that frame: ``GenerationStream.open``), before the request's
        task is woken; ``None`` takes it back (the request has gone)."""
        self._opener = opener

    async def _first_out(self, event: StreamEvent) -> None:
        """Pass the first event on: the opener (if one waits) sends it from this task, so
        the first token goes out without a hop between tasks; else the request's task is
        woken to send it, and the turn waits until it has (``release``)."""
        opener, self._opener = self._opener, None
        if opener is not None:
            with suppress(OSError, RuntimeError):  # the client has gone: the turn goes on
                await opener()
        if not self.first.done():  # not if the request was cancelled
            self.first.set_result(event)
            if opener is None:
                await self._sent_first()

    async def _run(self, events: AsyncIterator[StreamEvent]) -> None:
        first = self.first
        try:
            async with aclosing(events) as stream:  # type: ignore[type-var]
                async for event in stream:
                    self.add(encode_event(event, len(self.frames) + 1))
                    if not first.done():
                        await self._first_out(event)
        except Exception as error:
            if not first.done():
                first.set_exception(error)  # before any event: the route answers it
                return
            if not isinstance(error, PytavernError):
                logger.exception("generation %s failed", self.id)
                error = PytavernError("the generation failed", hint="See the server's log")
            self.add(frame("error", _error_data(error), len(self.frames) + 1))
            self.add(frame("finished", _FAILED, len(self.frames) + 1))
        except asyncio.CancelledError:
            if not self.stopped:
                raise
            self.add(frame("finished", CANCELLED, len(self.frames) + 1))
        finally:
            if not first.done():
                first.set_result(None)
            self.end()


_FAILED: dict[str, Any] = {"type": "finished", "reason": "error", "model": None}


def _error_data(error: PytavernError) -> dict[str, Any]:
    return {
        "type": "error",
        "kind": error.kind,
        "message": error.message,
        "hint": error.hint,
        "retryable": error.retryable,
    }


class GenerationStream(Response):
    """One listener of a generation: an SSE response from ``after`` on, live, to the end."""

    media_type = "text/event-stream"

    def __init__(self, log: GenerationLog, after: int = 0) -> None:
        self.log = log
        self.after = after
        self.status_code = 200
        self.background = None
        self._gone = False
        self._started = False
        self._ended = False
        self._waiter: asyncio.Future[None] | None = None

    @property
    def id(self) -> str:
        """The generation's id."""
        return self.log.id

    async def open(self, send: Send) -> None:
        """Send the answer's head and the frames there are so far (``__call__`` then sends
        the rest)."""
        await self._start(send)
        await self._send_new(send)

    async def __call__(self, _scope: Scope, receive: Receive, send: Send) -> None:
        """Send the frames until the generation has ended or the client has left."""
        if not self._started:
            await self._start(send)
        watcher = asyncio.create_task(self._watch(receive))
        try:
            await self._write(send)
        except OSError:
            return
        finally:
            watcher.cancel()
        if not self._ended:
            with suppress(OSError, RuntimeError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _start(self, send: Send) -> None:
        self._started = True
        headers = [*SSE_HEADERS, (b"x-generation-id", self.log.id.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})

    async def _write(self, send: Send) -> None:
        log = self.log
        while not self._gone and not self._ended:
            if self.after < len(log.frames):
                await self._send_new(send)
            elif log.ended:
                return
            else:
                self._waiter = log.waiter()
                await self._waiter

    async def _send_new(self, send: Send) -> None:
        """Send the frames not sent yet in one body part; the answer's last part when the
        generation has ended (its end goes in the same write)."""
        log, position = self.log, self.after
        frames, end = log.frames, len(log.frames)
        body = frames[position] if end - position == 1 else b"".join(frames[position:end])
        self.after = end
        self._ended = log.ended
        await send({"type": "http.response.body", "body": body, "more_body": not self._ended})
        log.release()

    async def _watch(self, receive: Receive) -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                self._gone = True
                if self._waiter is not None and not self._waiter.done():
                    self._waiter.set_result(None)
                return


class Generations:
    """The generations of this process, by id and by chat; finished ones for ``grace`` s."""

    def __init__(self, *, per_user: int | None = None, grace: float = 60.0) -> None:
        self.per_user = per_user
        self.grace = grace
        self._all: dict[str, Generation] = {}
        self._by_chat: dict[tuple[int, int], Generation] = {}
        self.on_start: Callable[[Generation], None] = lambda _generation: None
        self.on_end: Callable[[Generation], None] = lambda _generation: None

    def check_room(self, owner: int) -> None:
        """Raise ``TooManyGenerationsError`` when ``owner`` may not start another one."""
        if self.per_user is None:
            return
        running = sum(1 for g in self._all.values() if g.owner == owner and not g.ended)
        if running >= self.per_user:
            raise TooManyGenerationsError(
                f"{running} generations are running already; at most {self.per_user} may run"
                " at once",
                hint="Wait for one to finish or stop one (PYTAVERN_MAX_GENERATIONS_PER_USER"
                " sets the limit)",
            )

    def start(
        self, events: AsyncIterator[StreamEvent], owner: int = 0, chat_id: int = 0, mode: str = ""
    ) -> Generation:
        """Run a new generation over ``events`` in its own task."""
        generation_id = secrets.token_urlsafe(9)
        generation = Generation(generation_id, events, owner=owner, chat_id=chat_id, mode=mode)
        self._all[generation_id] = generation
        self._by_chat[(owner, chat_id)] = generation
        generation.task.add_done_callback(lambda _task: self._ended(generation))
        self.on_start(generation)
        return generation

    def _ended(self, generation: Generation) -> None:
        self.on_end(generation)
        loop = asyncio.get_running_loop()
        loop.call_later(self.grace, self.discard, generation.id)

    def get(self, generation_id: str, owner: int = 0) -> Generation | None:
        """The generation with this id started by ``owner``, running or recently ended."""
        generation = self._all.get(generation_id)
        return generation if generation is not None and generation.owner == owner else None

    def running_in(self, chat_id: int, owner: int = 0) -> Generation | None:
        """The generation running in this chat, if one is."""
        generation = self._by_chat.get((owner, chat_id))
        return generation if generation is not None and not generation.ended else None

    def discard(self, generation_id: str) -> None:
        """Forget a generation (its replay time is over, or it never started)."""
        generation = self._all.pop(generation_id, None)
        if generation is not None:
            key = (generation.owner, generation.chat_id)
            if self._by_chat.get(key) is generation:
                del self._by_chat[key]

    def stop_all(self) -> None:
        """Stop every running generation."""
        for generation in list(self._all.values()):
            generation.stop()

    async def aclose(self) -> None:
        """Stop every running generation and wait until their replies are saved."""
        self.stop_all()
        tasks = [g.task for g in self._all.values()]
        await asyncio.gather(*tasks, return_exceptions=True)

    def running(self) -> int:
        """How many generations are running."""
        return sum(1 for g in self._all.values() if not g.ended)

    def __len__(self) -> int:
        return self.running()


def sse_response(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answer of a route that streams server-sent events."""
    return {
        200: {
            "description": description,
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    }


SSE_RESPONSE = sse_response(
    "Server-sent events: `event: text|reasoning|status|usage|error|finished`, `id:` counter,"
    " `data:` JSON. The `X-Generation-Id` header names the generation for /stop and /events."
)
"""The OpenAPI answer of a route that starts a generation and streams it."""


async def stream_generation(
    generations: Generations,
    events: AsyncIterator[StreamEvent],
    owner: int,
    chat_id: int,
    mode: str,
    send: Send | None = None,
) -> GenerationStream:
    """Run ``events`` as a generation of ``chat_id`` in ``generations`` (the caller has
    checked there is room for it) and answer with its event stream once its first event is
    there: a request that cannot start is an HTTP error; once started, it runs to its end
    whatever the client does (only a stop ends it). With ``send``, the generation's task
    sends the answer's head and first frame itself."""
    generation = generations.start(events, owner, chat_id, mode)
    stream = GenerationStream(generation)
    if send is not None:
        generation.open_with(lambda: stream.open(send))
    try:
        # Awaited directly, not shielded (a shield costs the first token a loop iteration):
        # a client that leaves now cancels only this future; the turn goes on regardless.
        await generation.first
    except Exception:
        generations.discard(generation.id)
        raise
    finally:
        generation.open_with(None)
    return stream
