"""Generations across server processes on one PostgreSQL database, over LISTEN/NOTIFY.

Every process writes a row per generation (``pytavern.store.generations``) and listens on
two channels. A process asked for a generation that runs elsewhere sends ``attach`` on
``pytavern_ctl``; the process running it answers on ``pytavern_frames`` with all the
generation's frames so far, then each new batch as it comes, until ``finished``. The asking
process keeps them in a ``Mirror`` that its clients read like a local generation (the same
event ids, so ``Last-Event-ID`` works on any process). ``stop`` on ``pytavern_ctl`` stops
it from any process. Nothing is sent for a generation no other process follows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import suppress
from typing import Any

from sqlalchemy.engine import make_url

from pytavern.engine import Engine
from pytavern.engine.generation_registry import GenerationRegistry, GenerationRow
from pytavern.server.generations import (
    CANCELLED,
    Generation,
    GenerationLog,
    Generations,
    frame,
)
from pytavern.settings import Settings

logger = logging.getLogger("pytavern.server")
CONTROL = "pytavern_ctl"
FRAMES = "pytavern_frames"
CHUNK_CHARS = 1900
"""Characters per notification: PostgreSQL takes payloads under 8000 bytes."""
ATTACH_SECONDS = 3.0
"""How long to wait for the process running a generation to answer an ``attach``."""
SILENCE_SECONDS = 15.0
"""A followed generation silent this long is asked for again; silent twice as long, its
process is taken as gone and the generation ends here with an error."""
GONE: dict[str, Any] = {
    "type": "error",
    "kind": "GenerationLostError",
    "message": "the server process running this generation stopped",
    "hint": "The reply so far is in the chat; try Continue",
    "retryable": True,
}


async def start_relay(
    settings: Settings, engine: Engine, generations: Generations
) -> PgRelay | None:
    """The relay for a PostgreSQL database (listening already), or None for SQLite."""
    url = settings.database_url
    if url is None or not url.startswith("postgresql"):
        return None
    relay = PgRelay(url, GenerationRegistry.of(engine), generations)
    await relay.start()
    return relay


def _conninfo(url: str) -> str:
    """A libpq connection string for a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Mirror(GenerationLog):
    """Another process's generation, fed from its notifications."""

    def __init__(self, row: GenerationRow) -> None:
        super().__init__(row.id, row.owner_id, row.chat_id, row.mode)
        self.started = row.started
        self.ready = asyncio.Event()
        self.heard = time.monotonic()
        self.asked = False
        self._partial = ""
        self._cursor = 0

    def feed(self, start: int, text: str) -> bool:
        """Take one notification's text (from frame ``start``, or continuing if 0); true
        when the generation's last frame has come."""
        self.heard, self.asked = time.monotonic(), False
        if start > 0:
            self._partial, self._cursor = "", start - 1
            self.ready.set()
        *blocks, self._partial = (self._partial + text).split("\n\n")
        for block in blocks:
            if self._cursor == len(self.frames):
                self.add(block.encode() + b"\n\n")
                if "\nevent: finished\n" in block:
                    self.end()
            self._cursor += 1
        return self.ended

    def lost(self) -> None:
        """End the generation here: the process running it is gone."""
        self.add(frame("error", GONE, len(self.frames) + 1))
        self.add(frame("finished", {**CANCELLED, "reason": "error"}, len(self.frames) + 1))
        self.end()


class PgRelay:
    """The LISTEN/NOTIFY relay of one server process (see the module's docstring)."""

    def __init__(self, url: str, registry: GenerationRegistry, generations: Generations) -> None:
        self._conninfo = _conninfo(url)
        self._registry = registry
        self._generations = generations
        self._mirrors: dict[str, Mirror] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: Any = None
        self._sender: Any = None
        self._send_lock = asyncio.Lock()
        self._relaying: set[str] = set()
        generations.on_start = self._started
        generations.on_end = self._ended

    async def start(self) -> None:
        """Connect and listen."""
        import psycopg

        self._listener = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        self._sender = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        await self._listener.execute(f"LISTEN {CONTROL}")
        await self._listener.execute(f"LISTEN {FRAMES}")
        self._spawn(self._listen())
        self._spawn(self._watch_mirrors())

    async def aclose(self) -> None:
        """Stop listening and relaying; close the connections."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for connection in (self._listener, self._sender):
            if connection is not None:
                with suppress(Exception):
                    await connection.close()

    # ----- the routes' side -----

    async def running_in(self, chat_id: int, owner: int) -> GenerationLog | None:
        """The generation another process runs in this chat, followed here."""
        row = self._registry.running_in_chat(chat_id, owner)
        return None if row is None else await self._follow(row)

    async def attach(self, generation_id: str, owner: int) -> GenerationLog | None:
        """Follow another process's generation, if it runs or ended a moment ago."""
        row = self._registry.find(generation_id, owner)
        if row is None or (row.ended and time.time() - row.ended > self._generations.grace):
            return None  # its replay time is over: the stored chat is the truth
        return await self._follow(row)

    async def stop(self, generation_id: str, owner: int) -> bool:
        """Ask whichever process runs it to stop the generation."""
        row = self._registry.find(generation_id, owner)
        if row is None or row.ended is not None:
            return False
        await self._notify(CONTROL, json.dumps({"op": "stop", "id": row.id, "owner": owner}))
        return True

    async def _follow(self, row: GenerationRow) -> Mirror | None:
        mirror = self._mirrors.get(row.id)
        if mirror is None:
            mirror = self._mirrors[row.id] = Mirror(row)
            message = {"op": "attach", "id": row.id, "owner": row.owner_id}
            await self._notify(CONTROL, json.dumps(message))
        try:
            await asyncio.wait_for(mirror.ready.wait(), ATTACH_SECONDS)
        except TimeoutError:  # its process is gone (or it ended there long ago)
            self._mirrors.pop(row.id, None)
            if row.ended is None:
                self._registry.ended(row.id)
            return None
        return mirror

    # ----- the generating side -----

    def _started(self, generation: Generation) -> None:
        try:
            self._registry.started(
                generation.id,
                owner_id=generation.owner,
                chat_id=generation.chat_id,
                mode=generation.mode,
                started=generation.started,
            )
        except Exception:  # it runs all the same; other processes just cannot find it
            logger.exception("could not record generation %s", generation.id)

    def _ended(self, generation: Generation) -> None:
        try:
            self._registry.ended(generation.id)
        except Exception:  # the generation itself is saved; the row only helps finding it
            logger.exception("could not mark generation %s ended", generation.id)

    async def _relay_out(self, log: GenerationLog) -> None:
        """Send ``log``'s frames from the first, then live ones, until it has ended."""
        self._relaying.add(log.id)
        try:
            position = await self._send_batch(log, 0)
            while not (log.ended and position == len(log.frames)):
                if position == len(log.frames):
                    await log.waiter()
                else:
                    position = await self._send_batch(log, position)
        finally:
            self._relaying.discard(log.id)

    async def _send_batch(self, log: GenerationLog, position: int) -> int:
        """Send the frames after ``position`` (none: an answer that it runs here) in one
        series of notifications; the position reached."""
        async with self._send_lock:  # batches never interleave, so every batch can restart
            end = len(log.frames)
            text = b"".join(log.frames[position:end]).decode()
            for offset in range(0, max(len(text), 1), CHUNK_CHARS):
                first = position + 1 if offset == 0 else 0
                chunk = text[offset : offset + CHUNK_CHARS]
                await self._notify(FRAMES, f"{log.id}\t{first}\t{chunk}")
        return end

    # ----- notifications -----

    async def _notify(self, channel: str, payload: str) -> None:
        await self._sender.execute("SELECT pg_notify(%s, %s)", (channel, payload))

    async def _listen(self) -> None:
        async for note in self._listener.notifies():
            try:
                if note.channel == CONTROL:
                    self._control(json.loads(note.payload))
                else:
                    self._frames(note.payload)
            except Exception:
                logger.exception("a relay notification could not be handled")

    def _control(self, message: dict[str, Any]) -> None:
        generation = self._generations.get(message["id"], message["owner"])
        if generation is None:
            return
        if message["op"] == "stop":
            generation.stop()
        elif message["op"] == "attach":
            if generation.id in self._relaying:  # the asking process needs what came so far
                self._spawn(self._send_batch(generation, 0))
            else:
                self._spawn(self._relay_out(generation))

    def _frames(self, payload: str) -> None:
        generation_id, start, text = payload.split("\t", 2)
        mirror = self._mirrors.get(generation_id)
        if mirror is not None and mirror.feed(int(start), text):
            loop = asyncio.get_running_loop()
            loop.call_later(self._generations.grace, self._mirrors.pop, generation_id, None)

    async def _watch_mirrors(self) -> None:
        """Ask again for followed generations gone silent; end those whose process is gone."""
        while True:
            await asyncio.sleep(SILENCE_SECONDS / 3)
            silent_since = time.monotonic() - SILENCE_SECONDS
            for mirror in list(self._mirrors.values()):
                if mirror.ended or mirror.heard > silent_since:
                    continue
                if mirror.asked:
                    mirror.lost()
                    self._mirrors.pop(mirror.id, None)
                    self._registry.ended(mirror.id)
                    continue
                mirror.asked, mirror.heard = True, time.monotonic()
                message = {"op": "attach", "id": mirror.id, "owner": mirror.owner}
                await self._notify(CONTROL, json.dumps(message))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
