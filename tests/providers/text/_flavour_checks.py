"""Checks every text flavour passes against its fake (tests/fakes/flavours_text.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pytavern.errors import AuthError, StreamInterruptedError
from pytavern.providers import create_provider
from pytavern.providers._text import TextProvider
from tests.fakes.flavours_text import FAKES
from tests.fakes.server import FaultPlan
from tests.providers.text._helpers import FAST, SECRET, collect, finished, request, text_of


@asynccontextmanager
async def flavour(
    api: str, key: str | None = SECRET, *, fake_key: str | None = None, **changes: Any
) -> AsyncIterator[tuple[TextProvider, FaultPlan]]:
    """A provider of ``api`` connected to its fake (which demands ``fake_key``, by default
    ``key``); ``changes`` replace fields of the connection (``model``, ``options``...)."""
    plan = FaultPlan()
    with FAKES[api](plan, fake_key or key) as config:
        options = {**FAST, **config.options, **changes.pop("options", {})}
        config = dataclasses.replace(config, key=key, options=options, **changes)
        provider = create_provider(config)
        assert isinstance(provider, TextProvider)
        try:
            yield provider, plan
        finally:
            await provider.aclose()


def sent(plan: FaultPlan, path: str) -> list[dict[str, Any]]:
    """The requests the fake received at ``path``."""
    return [r for r in plan.requests if r["path"] == path]


async def check_lists_and_streams(api: str, path: str) -> dict[str, Any]:
    """``check`` passes and lists the model, a streamed send arrives whole; returns the
    completions request the fake received."""
    async with flavour(api) as (provider, plan):
        status = await provider.check()
        assert status.ok, status
        assert "fake-13b" in status.models
        assert [m.id for m in await provider.list_models()] == ["fake-13b"]
        events, error = await collect(provider, request(max_tokens=4))
        assert error is None, error
        assert text_of(events) == "Hello, traveler."
        assert [f.reason for f in finished(events)] == ["length"]
        (completion,) = sent(plan, path)
        assert completion["json"]["stream"] is True
        return completion


async def refused_key_names_key_page(api: str, key_page: str) -> None:
    """A wrong key fails ``check`` and ``send`` with the service's key page; the key is
    in neither."""
    async with flavour(api, SECRET, fake_key="the-right-key", options={"max_retries": 0}) as (
        provider,
        _plan,
    ):
        status = await provider.check()
        assert not status.ok
        assert status.hint is not None and key_page in status.hint
        assert SECRET not in status.summary + status.hint
        _events, error = await collect(provider, request())
        assert isinstance(error, AuthError)
        assert SECRET not in str(error) and key_page in str(error)


async def retries_then_keeps_a_cut_reply(api: str, path: str) -> None:
    """A 429 is retried; a stream cut half way keeps what arrived and says so."""
    async with flavour(api) as (provider, plan):
        plan.arm("429")
        events, error = await collect(provider, request())
        assert error is None and text_of(events).startswith("Hello")
        assert len(sent(plan, path)) == 2
        plan.arm("cut")
        events, error = await collect(provider, request())
        assert isinstance(error, StreamInterruptedError)
        assert text_of(events).startswith("Hello")
