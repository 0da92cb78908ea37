"""The base of the text flavours: a key the service echoes never reaches the user."""

from __future__ import annotations

import dataclasses

import pytest

from pytavern.errors import AuthError
from tests.fakes import text_flavours
from tests.providers.text._flavour_checks import flavour
from tests.providers.text._helpers import SECRET, collect, request


@pytest.mark.parametrize("api", ["togetherai", "featherless", "aphrodite", "huggingface"])
async def test_a_key_echoed_in_the_refusal_is_scrubbed(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    echoing = dataclasses.replace(
        text_flavours.SERVICES[api], unauthorized=(401, f"Incorrect API key provided: {SECRET}")
    )
    monkeypatch.setitem(text_flavours.SERVICES, api, echoing)
    async with flavour(api, SECRET, fake_key="right", options={"max_retries": 0}) as (
        provider,
        _plan,
    ):
        status = await provider.check()
        assert not status.ok and "Incorrect API key provided: ***" in status.summary
        assert SECRET not in status.summary + (status.hint or "")
        _events, error = await collect(provider, request())
        assert isinstance(error, AuthError) and "***" in str(error)
        assert SECRET not in str(error) and SECRET not in repr(error.args)
