"""xAI against its fake: check, models, streamed send with reasoning, faults, and the
samplers reasoning models refuse."""

from __future__ import annotations

from pytavern.providers import xai
from tests.providers.chat_helpers import collect, reasoning_of, request, text_of
from tests.providers.flavours import common

API = "xai"


def test_declared() -> None:
    common.declared(API, "https://api.x.ai/v1", "XAI_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send_with_reasoning_and_effort() -> None:
    req = request("hello there", presence_penalty=0.5, stop=["\n"])
    with common.running(API, reasoning_effort="high") as (provider, plan):
        events = await collect(provider, req)
        await provider.aclose()
    assert text_of(events) == "Echo: hello there"
    assert reasoning_of(events) == "Thinking it over."
    body = plan.requests[-1]["body"]
    assert body["reasoning_effort"] == "high"
    assert "presence_penalty" not in body and "stop" not in body


async def test_non_reasoning_model_keeps_its_samplers() -> None:
    req = request("hi", presence_penalty=0.5, stop=["\n"])
    with common.running(API, model="grok-3", reasoning_effort="low") as (provider, plan):
        assert text_of(await collect(provider, req)) == "Echo: hi"
        await provider.aclose()
    body = plan.requests[-1]["body"]
    assert body["presence_penalty"] == 0.5 and body["stop"] == ["\n"]
    assert "reasoning_effort" not in body


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, xai.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)
