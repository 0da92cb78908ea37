"""Z.AI against its fake: check by a 1-token request, streamed send with thinking,
faults, sampler ranges, one stop word, business codes."""

from __future__ import annotations

import pytest

from pytavern.errors import BadRequestError
from pytavern.providers import zai
from tests.providers.chat_helpers import collect, reasoning_of, request, text_of
from tests.providers.flavours import common

API = "zai"


def test_declared() -> None:
    common.declared(API, "https://api.z.ai/api/paas/v4", "ZAI_API_KEY")


async def test_check_by_a_one_token_request() -> None:
    await common.check_lists_models(API)


async def test_streamed_send_with_thinking_and_ranges() -> None:
    req = request("hello there", temperature=1.5, top_p=0.9, stop=["a", "b"])
    with common.running(API, thinking=False) as (provider, plan):
        events = await collect(provider, req)
        await provider.aclose()
    assert text_of(events) == "Echo: hello there" and reasoning_of(events) == "Thinking it over."
    body = plan.requests[-1]["body"]
    assert body["temperature"] == 1.0 and body["top_p"] == 0.9 and body["stop"] == ["a"]
    assert body["thinking"] == {"type": "disabled"}


async def test_unknown_model_shows_the_business_code() -> None:
    with common.running(API, model="glm-0") as (provider, _plan):
        with pytest.raises(BadRequestError, match=r"Unknown Model.*code 1214"):
            await collect(provider, request("hi"))
        await provider.aclose()


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, zai.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)
