"""The base of the text flavours: every fault keeps what arrived, and a key the service
echoes never reaches the user."""

from __future__ import annotations

import dataclasses

import pytest

from pytavern.errors import (
    AuthError,
    StreamProtocolError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from tests.fakes import text_flavours
from tests.providers.text._flavour_checks import flavour
from tests.providers.text._helpers import SECRET, collect, request, text_of


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


FLAVOURS = ["generic", "featherless", "togetherai", "infermaticai", "huggingface", "aphrodite"]


@pytest.mark.parametrize("api", FLAVOURS)
@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("500", None),
        ("503", None),
        ("malformed", StreamProtocolError),
        ("error_in_stream", UpstreamServerError),
        ("html", StreamProtocolError),
        ("stall_mid", UpstreamTimeoutError),
    ],
)
async def test_each_fault_keeps_what_arrived(api: str, fault: str, kind: type | None) -> None:
    async with flavour(api) as (provider, plan):
        plan.stall_seconds = 1.0
        plan.arm(fault)
        events, error = await collect(provider, request())
        if kind is None:
            assert error is None and text_of(events) == "Hello, traveler. The road is long."
            return
        assert isinstance(error, kind), error
        if fault != "html":
            assert text_of(events).startswith("Hello")
        if fault == "error_in_stream":
            assert "CUDA out of memory" in str(error)


async def test_a_bare_vllm_style_error_frame_is_an_error() -> None:
    async with flavour("aphrodite") as (provider, _plan):
        frame = {"object": "error", "message": "boom", "type": "InternalServerError", "code": 500}
        with pytest.raises(UpstreamServerError, match="boom"):
            provider._chunk(frame, None)  # type: ignore[attr-defined]
