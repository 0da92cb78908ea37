"""The Claude provider against the fake Anthropic Messages API."""

from __future__ import annotations

import httpx
import pytest

from pytavern.errors import (
    AuthError,
    MissingKeyError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamNotFoundError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from pytavern.providers import _anthropic_wire as wire
from pytavern.providers.anthropic import base_url_for
from pytavern.types import ChatMessage, GenerationRequest, SamplerSettings
from tests.fakes import anthropic_fake
from tests.fakes.anthropic_fake import DEFAULT_KEY
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

MODEL = "claude-haiku-4-5"
OLDER_MODEL = "claude-3-7-sonnet-latest"


def _req(*messages: tuple[str, str], prefill: str | None = None) -> GenerationRequest:
    return GenerationRequest(
        messages=tuple(ChatMessage(role, text) for role, text in messages),  # type: ignore[arg-type]
        prefill=prefill,
    )


def test_system_lifted_others_become_user_and_merged() -> None:
    req = _req(
        ("system", "You are Bob."),
        ("system", "Be brief."),
        ("user", "hi"),
        ("system", "[note]"),
        ("assistant", "hello"),
        ("assistant", "again"),
    )
    system, messages = wire.build_messages(req)
    assert system == "You are Bob.\n\nBe brief."
    assert messages == [
        {"role": "user", "content": "hi\n\n[note]"},
        {"role": "assistant", "content": "hello\n\nagain"},
    ]


def test_first_turn_is_user_and_prefill_is_last_assistant_turn() -> None:
    system, messages = wire.build_messages(
        _req(("system", "S"), ("assistant", "Greeting"), prefill="Sure,  \n")
    )
    assert system == "S"
    assert messages == [
        {"role": "user", "content": "Let's get started."},
        {"role": "assistant", "content": "Greeting\n\nSure,"},
    ]
    _, messages = wire.build_messages(_req(("system", "only")))
    assert messages == [{"role": "user", "content": "Let's get started."}]


def test_body_samplers_and_thinking() -> None:
    req = request("hi", temperature=0.3, top_k=5, top_p=0.9, stop=["\nUser:"], seed=1)
    body = wire.build_body(req, OLDER_MODEL, {}, stream=True)
    assert body["max_tokens"] == 1024 and body["stop_sequences"] == ["\nUser:"]
    assert (body["temperature"], body["top_k"], body["top_p"]) == (0.3, 5, 0.9)
    assert "seed" not in body
    body = wire.build_body(req, MODEL, {"thinking_budget": 2000}, stream=True)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    assert body["max_tokens"] == 3024 and "temperature" not in body and "top_k" not in body


@pytest.mark.parametrize(
    "url",
    ["https://x.test", "https://x.test/v1", "https://x.test/v1/", "https://x.test/v1/messages"],
)
def test_base_url_forms(url: str) -> None:
    assert base_url_for(url) == "https://x.test/v1"


def test_parser_requires_message_stop_and_raises_stream_errors() -> None:
    parser = wire.StreamParser("c")
    parser.feed("message_start", {"type": "message_start", "message": {"usage": {}}})
    with pytest.raises(StreamInterruptedError):
        parser.end()
    with pytest.raises(UpstreamServerError, match="overloaded"):
        parser.feed("error", {"type": "error", "error": {"type": "overloaded_error"}})


async def test_check_models_stream_and_non_stream() -> None:
    with fake(anthropic_fake.create_app) as (url, plan):
        provider = provider_for("claude", url, DEFAULT_KEY, model=MODEL)
        status = await provider.check()
        assert status.ok and MODEL in status.models
        assert plan.requests[-1]["path"] == "/v1/models"
        req = _req(("system", "Sys"), ("assistant", "Hi!"), ("user", "tell me"))
        events = await collect(provider, req)
        assert text_of(events) == "Echo: tell me" and finished(events).reason == "stop"
        usage = usage_of(events)
        assert usage is not None and usage.usage.output_tokens == 3
        sent = plan.requests[-1]
        assert sent["path"] == "/v1/messages"
        assert sent["headers"]["x-api-key"] == DEFAULT_KEY
        assert sent["headers"]["anthropic-version"] == "2023-06-01"
        assert sent["body"]["system"] == "Sys"
        assert sent["body"]["messages"][0] == {"role": "user", "content": "Let's get started."}
        assert sent["body"]["max_tokens"] == 1024
        nonstream = GenerationRequest(messages=req.messages, stream=False, prefill="Well ")
        events = await collect(provider, nonstream)
        assert text_of(events) == "echo: tell me"
        assert plan.requests[-1]["body"]["messages"][-1] == {
            "role": "assistant",
            "content": "Well",
        }
        await provider.aclose()


async def test_max_tokens_and_stop_reason() -> None:
    with fake(anthropic_fake.create_app) as (url, _plan):
        provider = provider_for("claude", url, DEFAULT_KEY, model=MODEL)
        events = await collect(provider, request("a b c", max_tokens=2))
        assert text_of(events) == "Echo: a" and finished(events).reason == "length"
        await provider.aclose()


async def test_extended_thinking_streams_reasoning() -> None:
    with fake(anthropic_fake.create_app) as (url, plan):
        provider = provider_for("claude", url, DEFAULT_KEY, model=MODEL, thinking_budget=1024)
        assert provider.supported_samplers() == wire.THINKING_SAMPLERS
        events = await collect(provider, request("why", temperature=0.5))
        assert reasoning_of(events) == "Let me think." and text_of(events) == "Echo: why"
        assert plan.requests[-1]["body"]["max_tokens"] == 2048
        await provider.aclose()


async def test_missing_and_wrong_key() -> None:
    with pytest.raises(MissingKeyError, match="ANTHROPIC_API_KEY"):
        provider_for("claude", None, None)
    with fake(anthropic_fake.create_app) as (url, _plan):
        provider = provider_for("claude", url, "sk-ant-wrong-key-value")
        status = await provider.check()
        assert not status.ok and "401" in status.summary
        with pytest.raises(AuthError) as caught:
            await collect(provider, GenerationRequest(messages=(), model=MODEL))
        assert "sk-ant-wrong-key-value" not in str(caught.value)
        assert "test-claude" in str(caught.value)
        await provider.aclose()


async def test_unknown_model() -> None:
    with fake(anthropic_fake.create_app) as (url, _plan):
        provider = provider_for("claude", url, DEFAULT_KEY, model="claude-0")
        with pytest.raises(UpstreamNotFoundError):
            await collect(provider, request("x"))
        await provider.aclose()


@pytest.mark.parametrize("fault", ["429", "500", "overloaded"])
async def test_retried_before_first_byte(fault: str) -> None:
    with fake(anthropic_fake.create_app) as (url, plan):
        provider = provider_for("claude", url, DEFAULT_KEY, model=MODEL)
        plan.arm(fault)
        assert text_of(await collect(provider, request("hi"))) == "Echo: hi"
        assert len(plan.requests) == 2
        plan.arm(fault, fault)
        with pytest.raises((RateLimitError, UpstreamServerError)) as caught:
            await collect(provider, request("hi"))
        assert "test-claude" in str(caught.value)
        if fault == "overloaded":
            assert "overloaded (HTTP 529)" in str(caught.value)
        await provider.aclose()


async def test_cut_error_malformed_stall() -> None:
    with fake(anthropic_fake.create_app) as (url, plan):
        provider = provider_for("claude", url, DEFAULT_KEY, model=MODEL, timeout_gap=0.2)
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
    with fake(anthropic_fake.create_app) as (url, plan):
        provider = provider_for(
            "claude", url, DEFAULT_KEY, model=MODEL, timeout_first_byte=0.2, max_retries=0
        )
        plan.arm("stall")
        with pytest.raises(UpstreamTimeoutError):
            await collect(provider, request("x"))
        plan.arm("html")
        status = await provider.check()
        assert not status.ok and "web page" in status.summary
        plan.arm("stall_mid")
        assert await stop_after_first_text(provider, request("a b c"), plan) == "Echo:"
        assert plan.requests[-1]["disconnected"]
        await provider.aclose()


def test_supported_samplers() -> None:
    provider = provider_for("claude", None, "k")
    assert provider.supported_samplers() == {"max_tokens", "temperature", "top_p", "top_k", "stop"}
    assert not SamplerSettings(seed=1).set_fields().keys() & provider.supported_samplers()


@pytest.mark.parametrize(
    ("model", "one_of"),
    [
        ("claude-sonnet-4-5", True),
        ("claude-sonnet-4-5-20250929", True),
        ("claude-haiku-4-5", True),
        ("claude-opus-4-1-20250805", True),
        ("claude-opus-4-5", True),
        ("claude-sonnet-5", True),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", True),
        ("claude-sonnet-4-5@20250929", True),
        ("claude-sonnet-4-20250514", False),
        ("claude-opus-4-20250514", False),
        ("claude-3-7-sonnet-latest", False),
        ("claude-3-5-haiku-20241022", False),
    ],
)
def test_which_models_take_one_of_temperature_and_top_p(model: str, one_of: bool) -> None:
    assert wire.one_of_temperature_top_p(model) is one_of


async def test_newer_models_get_temperature_only_when_both_are_set(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with fake(anthropic_fake.create_app) as (url, plan):
        provider = provider_for("claude", url, DEFAULT_KEY, model=MODEL)
        with caplog.at_level("WARNING"):
            events = await collect(provider, request("hi there", temperature=0.7, top_p=0.9))
        assert text_of(events) == "Echo: hi there"
        sent = plan.requests[-1]["body"]
        assert sent["temperature"] == 0.7 and "top_p" not in sent
        assert "top_p not sent" in caplog.text and MODEL in caplog.text
        events = await collect(provider, request("hi", top_p=0.9))
        assert plan.requests[-1]["body"]["top_p"] == 0.9
        older = provider_for("claude", url, DEFAULT_KEY, model=OLDER_MODEL)
        await collect(older, request("hi", temperature=0.7, top_p=0.9))
        assert (plan.requests[-1]["body"]["temperature"], plan.requests[-1]["body"]["top_p"]) == (
            0.7,
            0.9,
        )
        await provider.aclose()
        await older.aclose()


async def test_the_fake_refuses_both_for_newer_models_as_the_api_does() -> None:
    with fake(anthropic_fake.create_app) as (url, _plan):
        async with httpx.AsyncClient() as client:
            body = {
                "model": MODEL,
                "max_tokens": 10,
                "messages": [{"role": "user", "content": "hi"}],
                "temperature": 0.5,
                "top_p": 0.5,
            }
            answer = await client.post(
                f"{url}/v1/messages",
                json=body,
                headers={"x-api-key": DEFAULT_KEY, "anthropic-version": "2023-06-01"},
            )
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
