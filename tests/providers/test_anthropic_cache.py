"""Claude prompt caching: breakpoints in the body, and cache tokens read from the answer
(against the fake, which models cache writes and reads as the real API does)."""

from __future__ import annotations

import asyncio

from pytavern.events import UsageEvent
from pytavern.providers import _anthropic_wire as wire
from tests.fakes import anthropic_fake
from tests.providers.chat_helpers import collect, fake, provider_for, request

LONG_SYSTEM = "You are a careful narrator of a long story. " * 8
MODEL = "claude-haiku-4-5"


def test_breakpoints_on_system_and_older_history() -> None:
    req = request("one", "two", "three", "four", "five", system=LONG_SYSTEM)
    body = wire.build_body(req, MODEL, {"prompt_cache": True, "cache_depth": 2}, stream=True)
    [system] = body["system"]
    assert system["type"] == "text" and "careful narrator" in system["text"]
    assert system["cache_control"] == {"type": "ephemeral"}
    marked = [i for i, m in enumerate(body["messages"]) if isinstance(m["content"], list)]
    assert marked == [2]  # five messages, two after the breakpoint stay out
    assert body["messages"][2]["content"][-1]["cache_control"] == {"type": "ephemeral"}


def test_one_hour_ttl_and_off_by_default() -> None:
    req = request("one", system=LONG_SYSTEM)
    body = wire.build_body(req, MODEL, {"prompt_cache": True, "cache_ttl": "1h"}, stream=True)
    assert body["system"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert wire.breakpoint_index(1, 2) is None
    plain = wire.build_body(req, MODEL, {}, stream=True)
    assert isinstance(plain["system"], str) and "cache_control" not in str(plain)


def _usage(events: list[object]) -> UsageEvent:
    found = [e for e in events if isinstance(e, UsageEvent)]
    assert found
    return found[-1]


def test_second_request_reads_what_the_first_wrote() -> None:
    with fake(anthropic_fake.create_app, cache_min_tokens=20) as (url, plan):

        async def run() -> tuple[UsageEvent, UsageEvent, UsageEvent]:
            provider = provider_for(
                "claude", url, anthropic_fake.DEFAULT_KEY, model=MODEL, prompt_cache=True
            )
            try:
                first = _usage(await collect(provider, request("hi there", system=LONG_SYSTEM)))
                turn = request("hi there", "Echo: hi there", "and more", system=LONG_SYSTEM)
                second = _usage(await collect(provider, turn))
                stream = request("hi there", "Echo: hi there", "and more", system=LONG_SYSTEM)
                third = _usage(await collect(provider, stream))
            finally:
                await provider.aclose()
            return first, second, third

        first, second, third = asyncio.run(run())
    system_tokens = anthropic_fake.OVERHEAD + len(LONG_SYSTEM.split())
    assert first.usage.cache_write_tokens == system_tokens and not first.usage.cached_tokens
    assert second.usage.cached_tokens == system_tokens
    assert third.usage.cached_tokens is not None and third.usage.cached_tokens > system_tokens
    # input_tokens counts the whole prompt, cached or not
    assert third.usage.input_tokens == second.usage.input_tokens
    sent = plan.requests[-1]["body"]
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent["messages"][0]["content"][-1]["cache_control"] == {"type": "ephemeral"}


def test_fake_refuses_five_breakpoints() -> None:
    with fake(anthropic_fake.create_app) as (url, _plan):

        async def run() -> str:
            provider = provider_for("claude", url, anthropic_fake.DEFAULT_KEY, model=MODEL)
            control = {"type": "ephemeral"}
            req = request("a", "b", "c", "d", "e")
            body = wire.build_body(req, MODEL, {}, stream=False)
            for message in body["messages"]:
                message["content"] = [
                    {"type": "text", "text": message["content"], "cache_control": control}
                ]
            try:
                response = await provider.http.request_json(  # type: ignore[attr-defined]
                    "POST", "messages", json_body=body
                )
            except Exception as error:
                return str(error)
            finally:
                await provider.aclose()
            return str(response)

        said = asyncio.run(run())
    assert "maximum of 4 blocks" in said
