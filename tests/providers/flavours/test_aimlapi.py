"""AI/ML API against its fake: check, models, streamed send, faults, key advice."""

from __future__ import annotations

import pytest

from pytavern.errors import BadRequestError
from pytavern.providers import aimlapi
from tests.providers.chat_helpers import collect, request
from tests.providers.flavours import common

API = "aimlapi"


def test_declared() -> None:
    common.declared(API, "https://api.aimlapi.com/v1", "AIMLAPI_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "gpt-4o-mini"
    assert sent["headers"]["authorization"] == f"Bearer {common.FAKES[API].key}"


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, aimlapi.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


async def test_nest_error_message_is_read() -> None:
    with common.running(API, model="no/such") as (provider, _plan):
        with pytest.raises(BadRequestError) as caught:
            await collect(provider, request("hi"))
        await provider.aclose()
    assert "Invalid model: no/such" in str(caught.value)
