"""DeepSeek against its fake: check, models, streamed send, faults, reasoning shown apart."""

from __future__ import annotations

import pytest

from pytavern.errors import BadRequestError, ProviderError
from pytavern.providers import _openai_wire as wire
from pytavern.providers import deepseek
from pytavern.types import ChatMessage, GenerationRequest, SamplerSettings
from tests.fakes.vendors.deepseek import BROKE_MARKER
from tests.providers.chat_helpers import collect, finished, reasoning_of, request, text_of
from tests.providers.flavours import common

API = "deepseek"


def test_declared() -> None:
    common.declared(API, "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == "/v1/chat/completions" and sent["body"]["model"] == "deepseek-chat"


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, deepseek.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


@pytest.mark.parametrize("stream", [True, False])
async def test_reasoner_thinking_is_reasoning_not_reply(stream: bool) -> None:
    with common.running(API, model="deepseek-reasoner") as (provider, _plan):
        events = await collect(provider, request("why", stream=stream))
        await provider.aclose()
    assert reasoning_of(events) == "Thinking it over."
    assert text_of(events) == "Echo: why" and finished(events).reason == "stop"


async def test_out_of_balance_says_where_to_top_up() -> None:
    with common.running(API) as (provider, _plan):
        with pytest.raises(ProviderError) as caught:
            await collect(provider, request(f"hi {BROKE_MARKER}"))
        assert "402" in str(caught.value) and "Insufficient Balance" in str(caught.value)
        assert deepseek.TOP_UP_PAGE in (caught.value.hint or "")
        with pytest.raises(BadRequestError) as refused:
            await collect(provider, request("hi", temperature=3.0))
        assert "422" in str(refused.value) and "sampler" in (refused.value.hint or "")
        await provider.aclose()


async def test_reasoner_gets_strict_turns() -> None:
    messages = (
        ChatMessage("system", "Rules"),
        ChatMessage("user", "one"),
        ChatMessage("system", "[note]"),
        ChatMessage("user", "two", name="Ann"),
    )
    req = GenerationRequest(messages=messages, sampling=SamplerSettings())
    with common.running(API, model="deepseek-reasoner") as (provider, plan):
        assert text_of(await collect(provider, req)).startswith("Echo: one")
        await provider.aclose()
    assert plan.requests[-1]["body"]["messages"] == [
        {"role": "system", "content": "Rules"},
        {"role": "user", "content": "one\n\n[note]\n\nAnn: two"},
    ]
    body = wire.build_body(req, "deepseek-chat", deepseek.FLAVOUR, {}, stream=False)
    assert [m["role"] for m in body["messages"]] == ["system", "user", "system", "user"]
