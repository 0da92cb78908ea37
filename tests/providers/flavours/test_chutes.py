"""Chutes against its fake: check, models, streamed send, faults, key advice."""

from __future__ import annotations

import pytest

from pytavern.errors import GenerationFailedError, UpstreamServerError
from pytavern.providers import chutes
from tests.fakes.vendors.chutes import ENGINE_FAILURE, ROUTER_FAILURE
from tests.providers.chat_helpers import collect, request, text_of
from tests.providers.flavours import common

API = "chutes"


def test_declared() -> None:
    common.declared(API, "https://llm.chutes.ai/v1", "CHUTES_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "deepseek-ai/DeepSeek-V3-0324"
    assert sent["headers"]["authorization"] == f"Bearer {common.FAKES[API].key}"


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, chutes.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


async def test_the_routers_unframed_error_ends_the_reply() -> None:
    """Chutes' bare ``{"error": "..."}`` after the last event is the reply's error."""
    _got, error = await common.failed_mid_stream(API)
    assert isinstance(error, UpstreamServerError)
    assert f"Chutes failed mid-reply: {ROUTER_FAILURE}" in str(error)
    assert "Unhandled exception" not in str(error)
    assert error.hint == chutes.MID_REPLY_HINT


async def test_an_engine_error_in_the_stream_is_reported() -> None:
    """The inference engine's ``data: {"error": {...}}`` passed on by Chutes, then [DONE]."""
    _got, error = await common.failed_mid_stream(API, "engine_error")
    assert isinstance(error, GenerationFailedError)
    assert f"mid-reply: {ENGINE_FAILURE}" in str(error)
    assert "What arrived was kept" in (error.hint or "")


async def test_no_instance_is_explained() -> None:
    with common.running(API) as (provider, plan):
        plan.arm("503", "503")
        with pytest.raises(UpstreamServerError) as caught:
            await collect(provider, request("hi", repetition_penalty=1.05))
        assert "No Chutes instance" in (caught.value.hint or "")
        assert text_of(await collect(provider, request("hi", repetition_penalty=1.05)))
        await provider.aclose()
    assert plan.requests[-1]["body"]["repetition_penalty"] == 1.05
