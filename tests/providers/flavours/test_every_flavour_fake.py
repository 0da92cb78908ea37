"""Every FAKES entry of the chat flavours answers the shared faults the contract suite
uses: a web page, an error inside the stream, a broken line, and a stop mid-reply."""

from __future__ import annotations

import pytest

from pytavern.errors import ProviderError, StreamProtocolError
from pytavern.providers import get_spec
from tests.fakes.flavours_chat import FAKES
from tests.providers.chat_helpers import partial_then_error, request, stop_after_first_text
from tests.providers.flavours import common

APIS = sorted(FAKES)


@pytest.mark.parametrize("api", APIS)
def test_fake_matches_a_registered_flavour(api: str) -> None:
    spec = get_spec(api)
    assert spec.family == "chat" and FAKES[api].model
    assert (spec.key_env is None) == (FAKES[api].key is None)
    assert spec.capabilities.model_list == (FAKES[api].vendor.models_path is not None)


@pytest.mark.parametrize("api", APIS)
async def test_web_page_stream_errors_and_stop(api: str) -> None:
    thinks = common.thinks_first(api)
    first = "" if thinks else "Echo:"
    with common.running(api) as (provider, plan):
        plan.arm("html")
        status = await provider.check()
        assert not status.ok and "web page" in status.summary
        for fault in ("error_in_stream", "malformed"):
            plan.arm(fault)
            got, error = await partial_then_error(provider, request("one two three"))
            assert got == first and isinstance(error, ProviderError)
            assert isinstance(error, StreamProtocolError) == (fault == "malformed")
        plan.arm("stall_mid")
        assert await stop_after_first_text(provider, request("a b c d"), plan) == "Echo:"
        assert plan.requests[-1]["disconnected"]
        await provider.aclose()
