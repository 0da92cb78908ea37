"""CometAPI against its fake: check, models, streamed send, faults, key advice."""

from __future__ import annotations

import pytest

from pytavern.errors import UpstreamServerError
from pytavern.providers import cometapi
from tests.providers.chat_helpers import collect, request
from tests.providers.flavours import common

API = "cometapi"


def test_declared() -> None:
    common.declared(API, "https://api.cometapi.com/v1", "COMETAPI_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "gpt-4o-mini"
    assert sent["headers"]["authorization"] == f"Bearer {common.FAKES[API].key}"


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, cometapi.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


async def test_model_without_a_channel() -> None:
    with common.running(API, model="gpt-9", max_retries=0) as (provider, _plan):
        with pytest.raises(UpstreamServerError, match="No available channel for model gpt-9") as e:
            await collect(provider, request("hi"))
        assert "pick another model" in (e.value.hint or "")
        await provider.aclose()
