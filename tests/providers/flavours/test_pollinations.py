"""Pollinations against its fake: no key, its own model list, streamed send, faults, the
anonymous tier's 429 advice."""

from __future__ import annotations

import pytest

from pytavern.errors import RateLimitError
from tests.providers.chat_helpers import collect, request
from tests.providers.flavours import common

API = "pollinations"


def test_declared() -> None:
    common.declared(API, "https://text.pollinations.ai/openai", None)


async def test_check_lists_models_without_a_key() -> None:
    await common.check_lists_models(API)
    with common.running(API) as (provider, plan):
        assert [m.id for m in await provider.list_models()] == ["openai", "mistral"]
        await provider.aclose()
    assert plan.requests[-1]["path"] == "/models"
    assert "authorization" not in plan.requests[-1]["headers"]


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == "/openai/chat/completions" and "authorization" not in sent["headers"]


async def test_anonymous_pace_is_explained() -> None:
    with common.running(API) as (provider, plan):
        plan.arm("429", "429")
        with pytest.raises(RateLimitError) as caught:
            await collect(provider, request("hi"))
        await provider.aclose()
    assert "auth.pollinations.ai" in (caught.value.hint or "")


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)
