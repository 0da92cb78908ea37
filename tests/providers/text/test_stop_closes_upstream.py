"""Stopping a stream closes the upstream request: the fake sees its stream end early."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from pytavern.events import TextDelta
from tests.fakes import kobold, llamacpp, ollama, openai_text
from tests.fakes.server import FaultPlan, serve
from tests.providers.text._helpers import make, request

SLOW = 0.2
APPS: dict[str, Callable[[FaultPlan], Any]] = {
    "koboldcpp": lambda plan: kobold.create_app(plan, token_delay=SLOW),
    "ooba": lambda plan: openai_text.create_app(plan, "ooba", token_delay=SLOW),
    "llamacpp": lambda plan: llamacpp.create_app(plan, token_delay=SLOW),
    "ollama": lambda plan: ollama.create_app(plan, token_delay=SLOW),
}


async def stream_end(plan: FaultPlan) -> dict[str, Any]:
    for _ in range(100):
        ends = [r for r in plan.requests if r["method"] == "STREAM-END"]
        if ends:
            return ends[0]
        await asyncio.sleep(0.02)
    raise AssertionError("the fake's stream never ended")


@pytest.mark.parametrize("api", sorted(APPS))
async def test_stop_closes_upstream(api: str) -> None:
    plan = FaultPlan()
    with serve(APPS[api](plan)) as base:
        provider = make(api, base, model="llama3.2:3b")
        stream = provider.stream(request())
        assert isinstance(await stream.__anext__(), TextDelta)
        await stream.aclose()
        end = await stream_end(plan)
        assert end["sent"] < end["of"]  # the upstream stopped before its end
        await provider.aclose()


@pytest.mark.parametrize("api", sorted(APPS))
async def test_full_stream_reaches_the_end(api: str) -> None:
    plan = FaultPlan()
    with serve(APPS[api](plan)) as base:
        provider = make(api, base, model="llama3.2:3b")
        async for _event in provider.stream(request(max_tokens=2)):
            pass
        end = await stream_end(plan)
        assert end["sent"] == end["of"]
        await provider.aclose()
