"""NanoGPT against its fake: check, models, streamed send, faults, key advice."""

from __future__ import annotations

import pytest

from pytavern.errors import ProviderError
from pytavern.providers import nanogpt
from tests.fakes.vendors.nanogpt import EXPENSIVE
from tests.providers.chat_helpers import collect, request
from tests.providers.flavours import common

API = "nanogpt"


def test_declared() -> None:
    common.declared(API, "https://nano-gpt.com/api/v1", "NANOGPT_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == "/api/v1/chat/completions"
    assert sent["body"]["model"] == "gpt-4o-mini"
    assert sent["headers"]["authorization"] == f"Bearer {common.FAKES[API].key}"


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, nanogpt.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


async def test_low_balance_says_where_to_add_funds() -> None:
    with common.running(API) as (provider, _plan):
        with pytest.raises(ProviderError) as caught:
            await collect(provider, request(f"hi {EXPENSIVE}"))
        await provider.aclose()
    assert "402" in str(caught.value) and "add funds" in (caught.value.hint or "")
