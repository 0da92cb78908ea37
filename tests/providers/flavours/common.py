"""Checks every OpenAI-compatible flavour passes against its fake (``FAKES``).

Each flavour's test module calls these with its API type, then tests its own quirks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pytavern.errors import (
    AuthError,
    RateLimitError,
    StreamInterruptedError,
    UpstreamServerError,
)
from pytavern.events import StreamEvent
from pytavern.providers import get_spec
from pytavern.providers.base import Provider
from pytavern.types import GenerationRequest
from tests.fakes.flavours_chat import FAKES
from tests.fakes.server import FaultPlan, serve
from tests.providers.chat_helpers import (
    collect,
    finished,
    partial_then_error,
    provider_for,
    request,
    text_of,
)

WRONG_KEY = "sk-wrong-0123456789abcdefWRONG"


@contextmanager
def running(
    api: str, *, key: str | None = "", **options: Any
) -> Iterator[tuple[Provider, FaultPlan]]:
    """A provider for ``api`` pointed at its running fake (``key=""``: the fake's own)."""
    fake = FAKES[api]
    plan = FaultPlan(stall_seconds=1.0)
    with serve(fake.app(plan)) as root:
        given = fake.key if key == "" else key
        merged = {"model": fake.model, **fake.options, **options}
        yield provider_for(api, fake.url(root), given, **merged), plan


def thinks_first(api: str) -> bool:
    """The fake's default model streams its thinking before any reply text."""
    vendor = FAKES[api].vendor
    return FAKES[api].model in vendor.reasoning | vendor.think_in_text


async def check_lists_models(api: str) -> None:
    """``check`` connects and lists the fake's models, the default model among them."""
    with running(api) as (provider, _plan):
        status = await provider.check()
        assert status.ok, status.summary
        if FAKES[api].vendor.models_path is None:
            assert "no model list" in status.summary
        else:
            assert FAKES[api].model in status.models
        await provider.aclose()


async def streamed_send(
    api: str, req: GenerationRequest | None = None
) -> tuple[list[StreamEvent], dict[str, Any]]:
    """One streamed reply; returns its events and what the fake received."""
    with running(api) as (provider, plan):
        events = await collect(provider, req or request("hello there", system="Be brief"))
        await provider.aclose()
    assert text_of(events) == "Echo: hello there" or req is not None
    assert finished(events).reason in ("stop", "length")
    return events, plan.requests[-1]


async def refused_key_names_key_page(api: str, key_page: str) -> None:
    """A wrong key: ``check`` and a send say where the service issues keys, never the key."""
    if FAKES[api].key is None:
        pytest.skip("the service takes no key")
    with running(api, key=WRONG_KEY) as (provider, _plan):
        status = await provider.check()
        assert not status.ok and status.hint and key_page in status.hint
        assert WRONG_KEY not in f"{status.summary} {status.hint}"
        with pytest.raises(AuthError) as caught:
            await collect(provider, request("x"))
        assert key_page in (caught.value.hint or "")
        assert WRONG_KEY not in f"{caught.value} {caught.value.hint}"
        await provider.aclose()


async def faults_are_retried_then_reported(api: str) -> None:
    """429 / 503 before the first byte are retried; twice in a row is reported; a cut
    stream keeps what arrived."""
    with running(api) as (provider, plan):
        plan.arm("429")
        assert text_of(await collect(provider, request("hi"))).startswith("Echo: hi")
        plan.arm("503", "503")
        with pytest.raises(UpstreamServerError):
            await collect(provider, request("hi"))
        plan.arm("429", "429")
        with pytest.raises(RateLimitError):
            await collect(provider, request("hi"))
        plan.arm("cut")
        got, error = await partial_then_error(provider, request("one two three"))
        thinks = thinks_first(api)
        assert got == ("" if thinks else "Echo:") and isinstance(error, StreamInterruptedError)
        await provider.aclose()


async def failed_mid_stream(api: str, fault: str = "error_in_stream") -> tuple[str, BaseException]:
    """One streamed reply that the fake fails after its first text with ``fault`` (its
    service's own way, ``Vendor.stream_failures``); returns the text kept and the error."""
    with running(api) as (provider, plan):
        plan.arm(fault)
        got, error = await partial_then_error(provider, request("one two three"))
        await provider.aclose()
    assert got == ("" if thinks_first(api) else "Echo:"), "what arrived is kept"
    return got, error


def declared(api: str, default_url: str, key_env: str | None) -> None:
    """The spec is registered in the chat group with its vendor URL, key variable and model."""
    spec = get_spec(api)
    assert spec.group == "chat" and spec.family == "chat"
    assert spec.default_url == default_url and spec.key_env == key_env
    assert spec.default_model and spec.needs_model
