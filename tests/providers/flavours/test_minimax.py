"""MiniMax against its fake: check by a 1-token request, streamed send, faults, the
temperature range and base_resp errors."""

from __future__ import annotations

import pytest

from pytavern.errors import BadRequestError
from pytavern.providers import minimax
from tests.providers.chat_helpers import collect, reasoning_of, request, text_of
from tests.providers.flavours import common

API = "minimax"


def test_declared() -> None:
    common.declared(API, "https://api.minimax.io/v1", "MINIMAX_API_KEY")


async def test_check_by_a_one_token_request() -> None:
    await common.check_lists_models(API)


@pytest.mark.parametrize(("given", "sent"), [(0.0, 0.01), (1.5, 1.0), (0.7, 0.7)])
async def test_streamed_send_keeps_temperature_in_range(given: float, sent: float) -> None:
    _events, got = await common.streamed_send(API, request("hello there", temperature=given))
    assert got["body"]["temperature"] == sent and "frequency_penalty" not in got["body"]


async def test_base_resp_message_and_code() -> None:
    with common.running(API, model="abab-0") as (provider, _plan):
        with pytest.raises(BadRequestError) as caught:
            await collect(provider, request("hi"))
        await provider.aclose()
    assert "unknown model 'abab-0' (code 2013)" in str(caught.value)


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, minimax.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


async def test_think_block_is_reasoning() -> None:
    events, _sent = await common.streamed_send(API)
    assert reasoning_of(events) == "Thinking it over." and text_of(events) == "Echo: hello there"
