"""The Gemini provider against the fake Gemini API."""

from __future__ import annotations

import pytest

from pytavern.errors import (
    AuthError,
    ContentFilteredError,
    GenerationFailedError,
    MissingKeyError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamNotFoundError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from pytavern.providers import _gemini_wire as wire
from pytavern.providers.gemini import base_url_for
from pytavern.types import ChatMessage, GenerationRequest
from tests.fakes import gemini_fake
from tests.fakes.gemini_fake import DEFAULT_KEY
from tests.providers.chat_helpers import (
    collect,
    fake,
    finished,
    partial_then_error,
    provider_for,
    reasoning_of,
    request,
    stop_after_first_text,
    text_of,
    usage_of,
)

MODEL = "gemini-2.5-flash"


def test_contents_roles_system_and_merge() -> None:
    req = GenerationRequest(
        messages=(
            ChatMessage("system", "Sys A"),
            ChatMessage("system", "Sys B"),
            ChatMessage("user", "hi", name="Ann"),
            ChatMessage("system", "note"),
            ChatMessage("assistant", "yo"),
        ),
        prefill="Then ",
    )
    system, contents = wire.build_contents(req)
    assert system == "Sys A\n\nSys B"
    assert contents == [
        {"role": "user", "parts": [{"text": "Ann: hi\n\nnote"}]},
        {"role": "model", "parts": [{"text": "yo\n\nThen"}]},
    ]


def test_body_safety_and_generation_config() -> None:
    req = request(
        "x", max_tokens=5, temperature=0.1, top_p=0.5, top_k=3, seed=9, stop=list("abcdefg")
    )
    body = wire.build_body(req, {"safety_threshold": "BLOCK_NONE"})
    assert {s["threshold"] for s in body["safetySettings"]} == {"BLOCK_NONE"}
    assert len(body["safetySettings"]) == 5
    assert body["generationConfig"] == {
        "candidateCount": 1,
        "maxOutputTokens": 5,
        "temperature": 0.1,
        "topP": 0.5,
        "topK": 3,
        "seed": 9,
        "stopSequences": ["a", "b", "c", "d", "e"],
    }
    assert wire.build_body(request("x"), {})["safetySettings"][0]["threshold"] == "OFF"


def test_parser_rules() -> None:
    parser = wire.StreamParser("g")
    part = {"candidates": [{"content": {"parts": [{"text": "a"}, {"text": "t", "thought": True}]}}]}
    events = parser.feed(part)
    assert text_of(events) == "a" and reasoning_of(events) == "t"
    with pytest.raises(StreamInterruptedError):
        parser.end()
    with pytest.raises(ContentFilteredError, match="prompt"):
        parser.feed({"promptFeedback": {"blockReason": "OTHER"}})
    for reason in ("SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "RECITATION"):
        with pytest.raises(ContentFilteredError, match=reason):
            wire.StreamParser("g").feed({"candidates": [{"finishReason": reason}]})
    with pytest.raises(GenerationFailedError, match="no candidates"):
        wire.parse_reply("g", {"candidates": []})


@pytest.mark.parametrize("suffix", ["", "/", "/v1beta"])
def test_base_url(suffix: str) -> None:
    assert base_url_for("https://g.test" + suffix) == "https://g.test"


async def test_check_models_stream_and_non_stream() -> None:
    with fake(gemini_fake.create_app) as (url, plan):
        provider = provider_for("gemini", url, DEFAULT_KEY, model=MODEL)
        status = await provider.check()
        assert status.ok and status.models == gemini_fake.MODELS
        req = request("hello you", "ok", "and now", system="Be terse")
        events = await collect(provider, req)
        assert text_of(events) == "Echo: and now" and finished(events).reason == "stop"
        usage = usage_of(events)
        assert usage is not None and usage.usage.output_tokens == 3
        sent = plan.requests[-1]
        assert sent["path"] == f"/v1beta/models/{MODEL}:streamGenerateContent"
        assert sent["query"] == {"alt": "sse"}
        assert sent["headers"]["x-goog-api-key"] == DEFAULT_KEY
        assert sent["body"]["systemInstruction"] == {"parts": [{"text": "Be terse"}]}
        assert [c["role"] for c in sent["body"]["contents"]] == ["user", "model", "user"]
        assert len(sent["body"]["safetySettings"]) == 5
        events = await collect(provider, request("plain", stream=False))
        assert text_of(events) == "Echo: plain" and finished(events).reason == "stop"
        assert plan.requests[-1]["path"].endswith(":generateContent")
        assert all("key" not in r["query"] for r in plan.requests)
        await provider.aclose()


async def test_thoughts_as_reasoning() -> None:
    with fake(gemini_fake.create_app) as (url, _plan):
        provider = provider_for("gemini", url, DEFAULT_KEY, model=MODEL, include_thoughts=True)
        events = await collect(provider, request("q"))
        assert reasoning_of(events) == "Thinking..." and text_of(events) == "Echo: q"
        await provider.aclose()


@pytest.mark.parametrize("stream", [True, False])
async def test_blocked_prompt_and_safety_stop_are_errors(stream: bool) -> None:
    with fake(gemini_fake.create_app) as (url, plan):
        provider = provider_for("gemini", url, DEFAULT_KEY, model=MODEL)
        plan.arm("blocked")
        with pytest.raises(ContentFilteredError, match="prompt") as caught:
            await collect(provider, request("x", stream=stream))
        assert "safety_threshold" in str(caught.value)
        with pytest.raises(ContentFilteredError, match="SAFETY"):
            await collect(provider, request("an unsafe thing", stream=stream))
        await provider.aclose()


async def test_missing_wrong_key_and_unknown_model() -> None:
    with pytest.raises(MissingKeyError, match="GEMINI_API_KEY"):
        provider_for("gemini", None, None)
    with fake(gemini_fake.create_app) as (url, _plan):
        secret = "AIzaWrong-key-value-123"
        provider = provider_for("gemini", url, secret, model=MODEL)
        status = await provider.check()
        assert not status.ok and "refused the key" in status.summary
        with pytest.raises(AuthError) as caught:
            await collect(provider, request("x"))
        assert secret not in str(caught.value) and "test-gemini" in str(caught.value)
        await provider.aclose()
        provider = provider_for("gemini", url, DEFAULT_KEY, model="gemini-0")
        with pytest.raises(UpstreamNotFoundError):
            await collect(provider, request("x"))
        await provider.aclose()


@pytest.mark.parametrize("fault", ["429", "500", "503"])
async def test_retried_before_first_byte(fault: str) -> None:
    with fake(gemini_fake.create_app) as (url, plan):
        provider = provider_for("gemini", url, DEFAULT_KEY, model=MODEL)
        plan.arm(fault)
        assert text_of(await collect(provider, request("hi"))) == "Echo: hi"
        assert len(plan.requests) == 2
        plan.arm(fault, fault)
        with pytest.raises((RateLimitError, UpstreamServerError)) as caught:
            await collect(provider, request("hi"))
        if fault == "429":
            assert "RESOURCE_EXHAUSTED" in str(caught.value)
        await provider.aclose()


async def test_stream_faults() -> None:
    with fake(gemini_fake.create_app) as (url, plan):
        provider = provider_for("gemini", url, DEFAULT_KEY, model=MODEL, timeout_gap=0.2)
        expected = {
            "cut": StreamInterruptedError,
            "error_in_stream": UpstreamServerError,
            "malformed": StreamProtocolError,
            "stall_mid": UpstreamTimeoutError,
        }
        for fault, error_type in expected.items():
            plan.arm(fault)
            got, error = await partial_then_error(provider, request("one two three"))
            assert got == "Echo:", fault
            assert isinstance(error, error_type), (fault, error)
        await provider.aclose()


async def test_stall_html_and_stop() -> None:
    with fake(gemini_fake.create_app) as (url, plan):
        provider = provider_for(
            "gemini", url, DEFAULT_KEY, model=MODEL, timeout_first_byte=0.2, max_retries=0
        )
        plan.arm("stall")
        with pytest.raises(UpstreamTimeoutError):
            await collect(provider, request("x"))
        plan.arm("html")
        with pytest.raises(StreamProtocolError, match="web page"):
            await collect(provider, request("x"))
        plan.arm("stall_mid")
        assert await stop_after_first_text(provider, request("a b c"), plan) == "Echo:"
        assert plan.requests[-1]["disconnected"]
        await provider.aclose()
