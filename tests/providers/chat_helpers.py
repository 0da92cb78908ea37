"""Helpers shared by the chat-provider tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import aclosing, contextmanager
from typing import Any

from pytavern.events import Finished, ReasoningDelta, StreamEvent, TextDelta, UsageEvent
from pytavern.providers import create_provider
from pytavern.providers.base import ConnectionConfig, Provider
from pytavern.types import ChatMessage, GenerationRequest, SamplerSettings
from tests.fakes.server import FaultPlan, serve

FAST = {"max_retries": 1, "retry_max_delay": 0.05, "retry_base_delay": 0.01}


@contextmanager
def fake(factory: Any, **kwargs: Any) -> Iterator[tuple[str, FaultPlan]]:
    """Serve ``factory(plan, **kwargs)``; yield its URL and the plan."""
    plan = FaultPlan(stall_seconds=1.0)
    with serve(factory(plan, **kwargs)) as url:
        yield url, plan


def provider_for(api: str, url: str | None, key: str | None, **options: Any) -> Provider:
    """Build a provider for a connection named ``test-<api>``."""
    config = ConnectionConfig(
        name=f"test-{api}",
        api=api,
        url=url,
        key=key,
        model=options.pop("model", None),
        options={**FAST, **options},
    )
    return create_provider(config)


def request(
    *texts: str, system: str | None = None, prefill: str | None = None, **sampling: Any
) -> GenerationRequest:
    """A request: optional system, then alternating user/assistant ``texts``."""
    messages = [ChatMessage("system", system)] if system else []
    for index, text in enumerate(texts):
        messages.append(ChatMessage("user" if index % 2 == 0 else "assistant", text))
    stream = sampling.pop("stream", True)
    return GenerationRequest(
        messages=tuple(messages),
        sampling=SamplerSettings(**sampling),
        prefill=prefill,
        stream=stream,
    )


async def collect(provider: Provider, req: GenerationRequest) -> list[StreamEvent]:
    """Every event of one generation."""
    async with aclosing(provider.stream(req)) as events:  # type: ignore[type-var]
        return [event async for event in events]


def text_of(events: list[StreamEvent]) -> str:
    """The reply text in ``events``."""
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def reasoning_of(events: list[StreamEvent]) -> str:
    """The reasoning text in ``events``."""
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


def finished(events: list[StreamEvent]) -> Finished:
    """The single ``Finished`` event, which must be last."""
    ends = [e for e in events if isinstance(e, Finished)]
    assert len(ends) == 1 and events[-1] is ends[0]
    return ends[0]


def usage_of(events: list[StreamEvent]) -> UsageEvent | None:
    """The last usage event, if any."""
    found = [e for e in events if isinstance(e, UsageEvent)]
    return found[-1] if found else None


async def partial_then_error(
    provider: Provider, req: GenerationRequest
) -> tuple[str, BaseException]:
    """Run a stream expected to fail; return the text that arrived and the error."""
    got: list[str] = []
    try:
        async with aclosing(provider.stream(req)) as events:  # type: ignore[type-var]
            async for event in events:
                if isinstance(event, TextDelta):
                    got.append(event.text)
    except Exception as error:
        assert "\n" not in str(error), "errors are one line"
        return "".join(got), error
    raise AssertionError("the stream did not fail")


async def stop_after_first_text(provider: Provider, req: GenerationRequest, plan: FaultPlan) -> str:
    """Break out of the stream after the first text; wait for the fake to see the disconnect."""
    got = ""
    async with aclosing(provider.stream(req)) as events:  # type: ignore[type-var]
        async for event in events:
            if isinstance(event, TextDelta):
                got = event.text
                break
    for _ in range(200):
        if plan.requests[-1]["disconnected"]:
            break
        await asyncio.sleep(0.01)
    return got
