"""Keep-warm pings against the Anthropic fake (which models the prompt cache as the real
API does): an idle chat's last request is sent again for one token, the cache is read, the
ledger records each ping; a new turn cancels what is pending; off without caching or with
thinking."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from pytavern.engine import Engine
from pytavern.engine.routing import KEEP_WARM_OUTCOME
from pytavern.events import Finished, StreamEvent
from pytavern.providers import anthropic
from pytavern.settings import Settings
from pytavern.store.usage import list_usage
from tests.fakes import anthropic_fake
from tests.fakes.server import FaultPlan, serve

MODEL = "claude-haiku-4-5"
SECONDS = 0.05
"""The ping interval in these tests (the cache's TTL less a lead made 0.05 s short)."""


async def _turn(engine: Engine, chat_id: int, text: str) -> list[StreamEvent]:
    return [event async for event in engine.generate(chat_id, "send", text)]


def _engine(data_dir: Path, url: str, **options: Any) -> tuple[Engine, int]:
    engine = Engine.open(Settings(data_dir=data_dir))
    engine.store.save_connection(name="c", api="claude", url=url, model=MODEL, options=options)
    engine.store.set_default_connection("c")
    engine.secrets.set("c", anthropic_fake.DEFAULT_KEY)
    chat = engine.start_chat(engine.store.list_characters()[0].id)
    return engine, chat.id


def _pings(plan: FaultPlan) -> list[dict[str, Any]]:
    return [
        r for r in plan.requests if r["path"].endswith("/messages") and not r["body"].get("stream")
    ]


@pytest.fixture(autouse=True)
def _short_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(anthropic, "KEEP_WARM_LEAD", anthropic.CACHE_TTL_SECONDS["5m"] - SECONDS)


async def _settled(engine: Engine, chat_id: int) -> None:
    for _ in range(500):
        if not engine.keep_warm.pending((engine.store.owner_id, chat_id)):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the pings never ended")


async def test_an_idle_chat_is_pinged_and_the_cache_is_read(data_dir: Path) -> None:
    plan = FaultPlan()
    with serve(anthropic_fake.create_app(plan, cache_min_tokens=20)) as url:
        engine, chat_id = _engine(data_dir, url, prompt_cache=True, keep_warm_pings=2)
        events = await _turn(engine, chat_id, "Tell me about the lighthouse")
        assert isinstance(events[-1], Finished) and events[-1].reason == "stop"
        streamed = plan.requests[-1]["body"]
        await _settled(engine, chat_id)
        pings = _pings(plan)
        assert len(pings) == 2
        for ping in pings:
            assert ping["body"]["max_tokens"] == 1
            assert ping["body"]["messages"] == streamed["messages"]  # cache marks and all
            assert ping["body"]["system"] == streamed["system"]
        ledger = list_usage(engine.store.engine, engine.store.owner_id)
        kept = [row for row in ledger if row.outcome == KEEP_WARM_OUTCOME]
        assert len(kept) == 2 and all(row.chat_id == chat_id for row in kept)
        assert all(row.cached_tokens for row in kept)  # each ping read the cache
        messages = engine.store.history(chat_id)
        assert len(messages) == 3  # greeting, message, reply: the pings wrote nothing
        await engine.aclose()


async def test_a_new_turn_cancels_the_pending_pings(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anthropic, "KEEP_WARM_LEAD", anthropic.CACHE_TTL_SECONDS["5m"] - 1.0)
    plan = FaultPlan()
    with serve(anthropic_fake.create_app(plan, cache_min_tokens=20)) as url:
        engine, chat_id = _engine(data_dir, url, prompt_cache=True, keep_warm_pings=1)
        await _turn(engine, chat_id, "First")
        assert engine.keep_warm.pending((engine.store.owner_id, chat_id))
        await _turn(engine, chat_id, "Second")  # well within the 1 s
        await _settled(engine, chat_id)
        pings = _pings(plan)
        assert len(pings) == 1  # the first turn's ping never went
        streamed = [r for r in plan.requests if r["body"].get("stream")]
        assert pings[0]["body"]["messages"] == streamed[-1]["body"]["messages"]  # the second's
        await engine.aclose()


async def test_no_pings_without_caching_with_thinking_or_by_default(data_dir: Path) -> None:
    plan = FaultPlan()
    with serve(anthropic_fake.create_app(plan, cache_min_tokens=20)) as url:
        for options in (
            {"keep_warm_pings": 2},
            {"prompt_cache": True},
            {"prompt_cache": True, "keep_warm_pings": 2, "thinking_budget": 1024},
        ):
            engine, chat_id = _engine(data_dir / str(len(plan.requests)), url, **options)
            await _turn(engine, chat_id, "Hello")
            assert not engine.keep_warm.pending((engine.store.owner_id, chat_id)), options
            await engine.aclose()
        await asyncio.sleep(3 * SECONDS)
        assert _pings(plan) == []


async def test_a_failed_ping_ends_the_chats_pings(data_dir: Path) -> None:
    plan = FaultPlan()
    with serve(anthropic_fake.create_app(plan, cache_min_tokens=20)) as url:
        engine, chat_id = _engine(
            data_dir, url, prompt_cache=True, keep_warm_pings=3, max_retries=0
        )
        await _turn(engine, chat_id, "Hello")
        plan.arm("500")
        await _settled(engine, chat_id)
        assert len(_pings(plan)) == 1  # the failed one; no more after it
        failed = [
            row
            for row in list_usage(engine.store.engine, engine.store.owner_id)
            if row.outcome == "error"
        ]
        assert len(failed) == 1 and failed[0].error == "UpstreamServerError"
        await engine.aclose()
