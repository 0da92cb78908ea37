"""ooba, Tabby, vLLM, Mancer and DreamGen against the OpenAI-completions fake."""

from __future__ import annotations

import dataclasses

import pytest

from pytavern.errors import (
    AuthError,
    BadRequestError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamServerError,
)
from pytavern.events import UsageEvent
from pytavern.providers.openai_text import TabbyProvider, parse_chunk
from tests.fakes import openai_text as fake
from tests.fakes.server import FaultPlan, serve
from tests.providers.text._helpers import SECRET, collect, finished, make, request, text_of

FLAVOURS = ["ooba", "tabby", "vllm", "mancer", "dreamgen"]
PATH = {
    "ooba": "/v1/completions",
    "tabby": "/v1/completions",
    "vllm": "/v1/completions",
    "mancer": "/oai/v1/completions",
    "dreamgen": "/api/openai/v1/completions",
}
SUFFIX = {"mancer": "/oai/v1", "dreamgen": "/api/openai/v1"}


def completions(plan: FaultPlan, flavour: str) -> list[dict[str, object]]:
    return [r for r in plan.requests if r["path"] == PATH[flavour]]


def test_parse_chunk() -> None:
    assert parse_chunk({"choices": [{"text": "a", "finish_reason": "length"}]}) == ("a", "length")
    assert parse_chunk({"choices": []}) == ("", None)
    with pytest.raises(ValueError):
        parse_chunk([1])


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_stream_and_check(flavour: str) -> None:
    plan = FaultPlan()
    with serve(fake.create_app(plan, flavour, key=SECRET)) as base:
        url = base + SUFFIX.get(flavour, "/v1")  # a URL with the suffix works too
        provider = make(flavour, url, key=SECRET, model="fake-13b")
        status = await provider.check()
        assert status.ok, status
        assert status.model == "fake-13b"
        events, error = await collect(provider, request(max_tokens=4, top_k=40))
        assert error is None and text_of(events) == "Hello, traveler."
        assert [f.reason for f in finished(events)] == ["length"]
        sent = completions(plan, flavour)[0]
        body = sent["json"]
        assert isinstance(body, dict) and body["model"] == "fake-13b" and body["stream"] is True
        assert body["top_k"] == 40 and "<|im_end|>" in body["stop"]
        headers = sent["headers"]
        assert isinstance(headers, dict)
        if flavour in ("tabby", "mancer"):
            assert headers["x-api-key"] == SECRET
        await provider.aclose()


@pytest.mark.parametrize("flavour", ["ooba", "tabby", "vllm"])
async def test_count_tokens(flavour: str) -> None:
    with serve(fake.create_app(FaultPlan(), flavour)) as base:
        provider = make(flavour, base, model="fake-13b")
        assert await provider.count_tokens("a b c d") == 4  # type: ignore[attr-defined]
        await provider.aclose()


async def test_vllm_usage_and_non_stream() -> None:
    plan = FaultPlan()
    with serve(fake.create_app(plan, "vllm")) as base:
        provider = make("vllm", base, model="fake-13b")
        events, _ = await collect(provider, request())
        usage = [e for e in events if isinstance(e, UsageEvent)]
        assert usage and usage[0].usage.output_tokens == 9
        events, error = await collect(provider, request(stream=False, max_tokens=2))
        assert error is None and text_of(events) == "Hello,"
        await provider.aclose()


async def test_tabby_load_and_unload() -> None:
    plan = FaultPlan()
    with serve(fake.create_app(plan, "tabby", key=SECRET)) as base:
        provider = make("tabby", base, key=SECRET)
        assert isinstance(provider, TabbyProvider)
        await provider.unload_model()
        status = await provider.check()
        assert not status.ok and "no model" in status.summary
        await provider.load_model("other-7b")
        assert (await provider.check()).model == "other-7b"
        loads = [r for r in plan.requests if r["path"] == "/v1/model/load"]
        assert loads[0]["json"] == {"name": "other-7b"}
        with pytest.raises(BadRequestError, match="Could not find the model path"):
            await provider.load_model("missing-70b")
        await provider.aclose()
    with serve(fake.create_app(plan, "tabby", key=SECRET, admin=False)) as base:
        provider = make("tabby", base, key=SECRET)
        assert isinstance(provider, TabbyProvider)
        with pytest.raises(AuthError, match="admin key"):
            await provider.load_model("other-7b")
        await provider.aclose()


@pytest.mark.parametrize(
    ("fault", "kind", "count"),
    [
        ("429", None, 2),
        ("503", None, 2),
        ("cut", StreamInterruptedError, 1),
        ("malformed", StreamProtocolError, 1),
        ("error_in_stream", UpstreamServerError, 1),
    ],
)
async def test_faults(fault: str, kind: type | None, count: int) -> None:
    plan = FaultPlan()
    with serve(fake.create_app(plan, "ooba")) as base:
        provider = make("ooba", base)
        plan.arm(fault)
        events, error = await collect(provider, request())
        if kind is None:
            assert error is None and text_of(events).startswith("Hello")
        else:
            assert isinstance(error, kind) and text_of(events).startswith("Hello")
            assert "CUDA" in str(error) if fault == "error_in_stream" else True
        assert len(completions(plan, "ooba")) == count
        await provider.aclose()


async def test_rate_limit_exhausted_and_bad_key() -> None:
    plan = FaultPlan()
    with serve(fake.create_app(plan, "mancer", key="right")) as base:
        provider = make("mancer", base, key=SECRET, max_retries=0)
        _, error = await collect(provider, request())
        assert isinstance(error, AuthError) and SECRET not in str(error)
        await provider.aclose()
        provider = make("mancer", base, key="right", max_retries=0)
        plan.arm("429")
        _, error = await collect(provider, request())
        assert isinstance(error, RateLimitError) and "Too many requests" in str(error)
        await provider.aclose()


async def test_ooba_sends_context_size_as_truncation_length() -> None:
    plan = FaultPlan()
    with serve(fake.create_app(plan, "ooba")) as base:
        provider = make("ooba", base)
        req = dataclasses.replace(request(), context_size=4096)
        _, error = await collect(provider, req)
        assert error is None
        body = completions(plan, "ooba")[0]["json"]
        assert isinstance(body, dict) and body["truncation_length"] == 4096
        await provider.aclose()
