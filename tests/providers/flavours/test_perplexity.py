"""Perplexity against its fake: check without a model list, streamed send, faults, strict
turns, the frequency-penalty shift, no stop, and citations kept."""

from __future__ import annotations

import pytest

from pytavern.events import Finished
from pytavern.providers import _openai_wire as wire
from pytavern.providers import perplexity
from pytavern.types import ChatMessage, GenerationRequest
from tests.fakes.vendors.perplexity import CITATIONS
from tests.providers.chat_helpers import (
    collect,
    finished,
    provider_for,
    reasoning_of,
    request,
    text_of,
)
from tests.providers.flavours import common

API = "perplexity"
SOURCES = "\n\nSources:\n[1] https://example.org/a\n[2] https://example.org/b"


def test_declared() -> None:
    common.declared(API, "https://api.perplexity.ai", "PERPLEXITY_API_KEY")


@pytest.mark.parametrize(
    ("given", "base"),
    [
        (None, "https://api.perplexity.ai"),
        ("https://api.perplexity.ai/", "https://api.perplexity.ai"),
        ("https://api.perplexity.ai/chat/completions", "https://api.perplexity.ai"),
        ("https://proxy.example/v1", "https://proxy.example/v1"),
    ],
)
def test_base_url_has_no_v1(given: str | None, base: str) -> None:
    assert perplexity.base_url(given) == base
    provider = provider_for(API, given, "k")
    assert provider.http.base_url == base  # type: ignore[attr-defined]


async def test_check_without_a_model_list() -> None:
    await common.check_lists_models(API)


async def test_streamed_send_keeps_citations() -> None:
    events, sent = await common.streamed_send(API, request("hello there", system="Be brief"))
    assert sent["path"] == "/chat/completions"
    assert text_of(events) == "Echo: hello there" + SOURCES
    end = finished(events)
    assert end.extra["citations"] == CITATIONS
    assert [r["url"] for r in end.extra["search_results"]] == CITATIONS  # type: ignore[attr-defined]


async def test_citations_without_the_appended_list() -> None:
    with common.running(API, append_sources=False) as (provider, _plan):
        events = await collect(provider, request("hi", stream=False))
        await provider.aclose()
    assert text_of(events) == "Echo: hi"
    end = next(e for e in events if isinstance(e, Finished))
    assert end.extra["citations"] == CITATIONS


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, perplexity.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


async def test_turns_alternate_penalty_shifted_and_no_stop() -> None:
    messages = (
        ChatMessage("system", "Rules"),
        ChatMessage("assistant", "Greeting", name="Bot"),
        ChatMessage("system", "[note]"),
        ChatMessage("user", "one"),
        ChatMessage("user", "two"),
    )
    req = request("x", frequency_penalty=0.0, stop=["\nUser:"])
    req = GenerationRequest(messages=messages, sampling=req.sampling)
    with common.running(API) as (provider, plan):
        events = await collect(provider, req)
        await provider.aclose()
    assert text_of(events).startswith("Echo: [note]")
    body = plan.requests[-1]["body"]
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][2]["content"] == "Bot: Greeting"
    assert body["messages"][3]["content"] == "[note]\n\none\n\ntwo"
    assert body["frequency_penalty"] == 1.0 and "stop" not in body and "seed" not in body


def test_body_without_penalty_is_left_alone() -> None:
    body = wire.build_body(request("hi"), "sonar", perplexity.FLAVOUR, {}, stream=False)
    assert "frequency_penalty" not in body and body["messages"] == [
        {"role": "user", "content": "hi"}
    ]


@pytest.mark.parametrize("stream", [True, False])
async def test_reasoning_model_think_block_is_reasoning(stream: bool) -> None:
    with common.running(API, model="sonar-reasoning-pro") as (provider, _plan):
        events = await collect(provider, request("why", stream=stream))
        await provider.aclose()
    assert reasoning_of(events) == "Thinking it over."
    assert text_of(events) == "Echo: why" + SOURCES
