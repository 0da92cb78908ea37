"""Cohere's native Chat API v2 against the fake Cohere API."""

from __future__ import annotations

import pytest

from pytavern.errors import (
    AuthError,
    GenerationFailedError,
    MissingKeyError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamNotFoundError,
)
from pytavern.providers import _cohere_wire as wire
from pytavern.providers import create_provider
from tests.fakes.flavours_native import FAKES
from tests.fakes.server import FaultPlan
from tests.providers.chat_helpers import (
    FAST,
    collect,
    finished,
    partial_then_error,
    provider_for,
    reasoning_of,
    request,
    text_of,
    usage_of,
)

KEY = "co-fake-0123456789abcdef"


def test_samplers_take_cohere_names_and_ranges() -> None:
    req = request("hi", top_p=1.0, top_k=900, stop=list("abcdefg"), temperature=0.3, min_p=0.2)
    body = wire.build_body(req, "m", stream=True)
    assert body["p"] == 0.99 and body["k"] == 500 and body["temperature"] == 0.3
    assert body["stop_sequences"] == list("abcde")
    assert not {"top_p", "top_k", "stop", "min_p"} & set(body)


async def test_check_lists_chat_models_only() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["cohere"].start(plan, **FAST) as config:
        provider = create_provider(config)
        status = await provider.check()
        assert status.ok and "embed-english-v3.0" not in status.models
        assert "command-a-03-2025" in status.models
        assert plan.requests[-1]["query"]["endpoint"] == "chat"
        await provider.aclose()


async def test_streamed_and_plain_replies_with_usage() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["cohere"].start(plan, **FAST) as config:
        provider = create_provider(config)
        events = await collect(provider, request("one two", system="Be brief.", top_p=0.5))
        assert text_of(events) == "Echo: one two" and finished(events).reason == "stop"
        usage = usage_of(events)
        assert usage is not None and usage.usage.output_tokens == 3
        sent = plan.requests[-1]["body"]
        assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
        assert sent["p"] == 0.5 and plan.requests[-1]["completed"]
        plain = await collect(provider, request("x y z", stream=False, max_tokens=2))
        assert text_of(plain) == "Echo: x" and finished(plain).reason == "length"
        await provider.aclose()


async def test_thinking_is_reasoning() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["cohere"].start(plan, **FAST) as config:
        provider = provider_for("cohere", config.url, KEY, model="command-a-reasoning-08-2025")
        events = await collect(provider, request("hi"))
        assert reasoning_of(events) == "Let me think." and text_of(events) == "Echo: hi"
        await provider.aclose()


async def test_bad_key_names_the_key_page_and_hides_the_key() -> None:
    secret = "co-wrong-SECRET-98765"
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["cohere"].start(plan, **FAST) as config:
        provider = provider_for("cohere", config.url, secret, model="command-a-03-2025")
        status = await provider.check()
        assert not status.ok and "invalid api token" in status.summary
        assert "dashboard.cohere.com/api-keys" in (status.hint or "")
        with pytest.raises(AuthError) as caught:
            await collect(provider, request("x"))
        assert secret not in str(caught.value) and secret not in (caught.value.hint or "")
        await provider.aclose()
    with pytest.raises(MissingKeyError, match="CO_API_KEY"):
        provider_for("cohere", None, None)


async def test_unknown_model_and_rate_limit_advice() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["cohere"].start(plan, **FAST) as config:
        provider = provider_for("cohere", config.url, KEY, model="nope", max_retries=0)
        with pytest.raises(UpstreamNotFoundError, match="model 'nope' not found") as caught:
            await collect(provider, request("x"))
        assert "connections models" in (caught.value.hint or "")
        await provider.aclose()
        provider = create_provider(config)
        plan.arm("429", "429")
        with pytest.raises(RateLimitError, match="Trial key") as limited:
            await collect(provider, request("x"))
        assert "production key" in (limited.value.hint or "")
        await provider.aclose()


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ("cut", StreamInterruptedError),
        ("malformed", StreamProtocolError),
        ("error_in_stream", GenerationFailedError),
    ],
)
async def test_stream_faults_keep_what_arrived(fault: str, error_type: type[Exception]) -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["cohere"].start(plan, **FAST) as config:
        provider = create_provider(config)
        plan.arm(fault)
        got, error = await partial_then_error(provider, request("one two three four"))
        assert got == "Echo:" and isinstance(error, error_type)
        await provider.aclose()
