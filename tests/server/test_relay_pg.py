"""The PostgreSQL relay in one event loop: two relays stand for two server processes on one
database (the real two-process test is tests/reliability/test_resume.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pytavern.engine.generation_registry import GenerationRegistry
from pytavern.events import Finished, StreamEvent, TextDelta
from pytavern.server import relay_pg
from pytavern.server.generations import GenerationLog, Generations
from pytavern.server.relay_pg import PgRelay
from pytavern.store import Store
from tests.postgres import create_database

BIG = "x" * 5000 + "é" * 3000 + "\n\n" + "🦉" * 1000
"""Longer than one notification can carry, with text that is not ASCII."""


async def _events(gate: asyncio.Event, *, endless: bool = False) -> AsyncIterator[StreamEvent]:
    yield TextDelta("first ")
    await gate.wait()
    yield TextDelta(BIG)
    while endless:
        await asyncio.sleep(0.05)
        yield TextDelta("more ")
    yield Finished(reason="stop", model="m")


async def _ended(log: GenerationLog, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not log.ended:
            await log.waiter()


@pytest.fixture
async def relays(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Generations, PgRelay, Generations, PgRelay]]:
    monkeypatch.setattr(relay_pg, "SILENCE_SECONDS", 0.3)
    url = create_database(postgres_url, "relay_in_one_loop")
    store = Store.open(url)
    one, two = Generations(), Generations()
    first, second = (
        PgRelay(url, GenerationRegistry(store.engine), one),
        PgRelay(url, GenerationRegistry(store.engine), two),
    )
    await first.start()
    await second.start()
    yield one, first, two, second
    await one.aclose()
    await first.aclose()
    await second.aclose()
    store.engine.dispose()


async def test_another_process_follows_stops_and_outlives_a_generation(
    relays: tuple[Generations, PgRelay, Generations, PgRelay],
) -> None:
    one, first, _two, second = relays
    gate = asyncio.Event()
    generation = one.start(_events(gate), owner=7, chat_id=3, mode="send")
    await generation.first
    assert await second.running_in(3, 8) is None  # another user's
    mirror = await second.running_in(3, 7)
    assert mirror is not None and mirror.id == generation.id and mirror.mode == "send"
    assert mirror.text() == "first "
    gate.set()
    await _ended(mirror)
    assert mirror.frames == generation.frames
    assert mirror.text() == "first " + BIG
    assert await second.running_in(3, 7) is None
    assert await second.attach(generation.id, 7) is mirror  # replayable after the end

    endless = one.start(_events(asyncio.Event(), endless=True), owner=7, chat_id=4, mode="swipe")
    await endless.first
    assert not await second.stop(endless.id, 8)
    assert await second.stop(endless.id, 7)
    await _ended(endless)
    assert endless.frames[-1].endswith(b'"reason":"cancelled","model":null}\n\n')

    silent = one.start(_events(asyncio.Event()), owner=7, chat_id=5, mode="send")
    await silent.first
    followed = await second.attach(silent.id, 7)
    assert followed is not None
    await first.aclose()  # the generating process is gone
    await _ended(followed)
    assert b"GenerationLostError" in followed.frames[-2]
    assert await second.running_in(5, 7) is None
