"""KoboldCpp and KoboldAI United against the fake (real HTTP on loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from pytavern.errors import (
    AuthError,
    BadRequestError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from pytavern.events import TextDelta
from pytavern.providers.kobold import (
    drop_too_new,
    kobold_body,
    parse_generate,
    parse_stream_data,
)
from tests.fakes import kobold as fake
from tests.fakes.server import FaultPlan, serve
from tests.providers.text._helpers import SECRET, collect, finished, make, request, text_of


@pytest.fixture
def plan() -> FaultPlan:
    return FaultPlan(stall_seconds=1.0)


@pytest.fixture
def url(plan: FaultPlan) -> Iterator[str]:
    with serve(fake.create_app(plan)) as base:
        yield base


def gen_requests(plan: FaultPlan, path: str) -> list[dict[str, object]]:
    return [r for r in plan.requests if r["path"] == path]


def test_pure_builders() -> None:
    body = kobold_body("P", {"max_length": 5}, max_context_length=100, genkey="KCPP1")
    assert body["prompt"] == "P" and body["genkey"] == "KCPP1" and body["use_story"] is False
    assert parse_generate({"results": [{"text": "x", "finish_reason": "length"}]}) == (
        "x",
        "length",
    )
    assert parse_stream_data({"token": "a", "finish_reason": None}) == ("a", None)
    with pytest.raises(ValueError):
        parse_generate({"results": []})
    assert drop_too_new({"min_p": 1, "top_k": 2}, (1, 47), {"min_p": (1, 48)}) == {"top_k": 2}
    assert drop_too_new({"min_p": 1}, (), {"min_p": (1, 48)}) == {"min_p": 1}


async def test_check_and_models(url: str) -> None:
    provider = make("koboldcpp", url + "/api")
    status = await provider.check()
    assert status.ok and status.model == "koboldcpp/fake-7b"
    assert status.details["version"] == "1.80.3"
    assert "dry_multiplier" in status.details["samplers"]  # type: ignore[operator]
    assert [m.id for m in await provider.list_models()] == ["koboldcpp/fake-7b"]
    assert await provider.count_tokens("one two three") == 3
    await provider.aclose()


async def test_stream_sends_kobold_fields(url: str, plan: FaultPlan) -> None:
    provider = make("koboldcpp", url)
    events, error = await collect(
        provider,
        request(max_tokens=4, temperature=0.7, min_p=0.1, sampler_order=["top_k", "temperature"]),
    )
    assert error is None
    assert text_of(events) == "Hello, traveler."
    assert [f.reason for f in finished(events)] == ["length"]
    body = gen_requests(plan, "/api/extra/generate/stream")[0]["json"]
    assert isinstance(body, dict)
    assert body["max_length"] == 4 and body["min_p"] == 0.1 and body["sampler_order"] == [0, 5]
    assert body["prompt"].endswith("<|im_start|>assistant\n")
    assert "<|im_end|>" in body["stop_sequence"] and body["genkey"].startswith("KCPP")
    assert not gen_requests(plan, "/api/extra/abort")
    await provider.aclose()


async def test_non_stream(url: str, plan: FaultPlan) -> None:
    provider = make("koboldcpp", url)
    events, error = await collect(provider, request(stream=False, max_tokens=2))
    assert error is None and text_of(events) == "Hello,"
    assert gen_requests(plan, "/api/v1/generate")
    await provider.aclose()


async def test_stop_calls_abort_and_stops_upstream(plan: FaultPlan) -> None:
    with serve(fake.create_app(plan, token_delay=0.2)) as base:
        provider = make("koboldcpp", base)
        stream = provider.stream(request())
        first = await stream.__anext__()
        assert isinstance(first, TextDelta)
        await stream.aclose()
        aborts = gen_requests(plan, "/api/extra/abort")
        body = gen_requests(plan, "/api/extra/generate/stream")[0]["json"]
        assert isinstance(body, dict)
        assert aborts and aborts[0]["json"] == {"genkey": body["genkey"]}
        await provider.aclose()


@pytest.mark.parametrize("fault", ["429", "503", "stall"])
async def test_retry_before_first_byte(url: str, plan: FaultPlan, fault: str) -> None:
    provider = make("koboldcpp", url, timeout_first_byte=0.3)
    plan.arm(fault)
    events, error = await collect(provider, request())
    assert error is None and text_of(events).startswith("Hello")
    assert len(gen_requests(plan, "/api/extra/generate/stream")) == 2
    await provider.aclose()


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("429", RateLimitError),
        ("500", UpstreamServerError),
        ("stall", UpstreamTimeoutError),
        ("html", StreamProtocolError),
    ],
)
async def test_fault_gives_up(url: str, plan: FaultPlan, fault: str, kind: type) -> None:
    provider = make("koboldcpp", url, timeout_first_byte=0.3, max_retries=1)
    plan.arm(fault, fault)
    _events, error = await collect(provider, request())
    assert isinstance(error, kind) and error.hint and "\n" not in str(error)
    assert len(gen_requests(plan, "/api/extra/generate/stream")) == (2 if fault != "html" else 1)
    await provider.aclose()


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("cut", StreamInterruptedError),
        ("malformed", StreamProtocolError),
        ("error_in_stream", UpstreamServerError),
        ("stall_mid", UpstreamTimeoutError),
    ],
)
async def test_mid_stream_faults_keep_partial(
    url: str, plan: FaultPlan, fault: str, kind: type
) -> None:
    provider = make("koboldcpp", url, timeout_gap=0.3)
    plan.arm(fault)
    events, error = await collect(provider, request())
    assert isinstance(error, kind), error
    assert text_of(events).startswith("Hello") and not finished(events)
    assert len(gen_requests(plan, "/api/extra/generate/stream")) == 1
    await provider.aclose()


async def test_password_refused_without_leaking(plan: FaultPlan) -> None:
    with serve(fake.create_app(plan, password="right")) as base:
        provider = make("koboldcpp", base, key=SECRET)
        status = await provider.check()
        assert not status.ok and "refused" in status.summary and SECRET not in str(status)
        _events, error = await collect(provider, request())
        assert isinstance(error, AuthError) and SECRET not in str(error)
        await provider.aclose()


async def test_united_classic_one_delta_and_context_check(plan: FaultPlan) -> None:
    with serve(fake.create_app(plan, united=True, context=40)) as base:
        provider = make("kobold", base + "/api/")
        status = await provider.check()
        assert status.ok and status.details["version"] == "1.2.5"
        events, error = await collect(provider, request(max_tokens=3))
        assert error is None and [type(e).__name__ for e in events] == ["TextDelta", "Finished"]
        body = gen_requests(plan, "/api/v1/generate")[0]["json"]
        assert isinstance(body, dict) and body["max_context_length"] == 40
        assert "min_p" not in body
        events, error = await collect(provider, request("word " * 200, max_tokens=3))
        assert isinstance(error, BadRequestError) and "context size of 40" in str(error)
        assert len(gen_requests(plan, "/api/v1/generate")) == 1
        await provider.aclose()


async def test_connection_refused_check() -> None:
    provider = make("koboldcpp", "http://127.0.0.1:9")
    status = await provider.check()
    assert not status.ok and status.hint and "connect" in status.summary
    await provider.aclose()
    await asyncio.sleep(0)


async def test_old_versions_get_only_what_they_know(plan: FaultPlan) -> None:
    with serve(fake.create_app(plan, version="1.40")) as base:
        provider = make("koboldcpp", base)
        _, error = await collect(provider, request(min_p=0.1, grammar="g", mirostat_mode=2))
        assert error is None
        body = gen_requests(plan, "/api/extra/generate/stream")[0]["json"]
        assert isinstance(body, dict) and body["mirostat"] == 2
        assert "min_p" not in body and "grammar" not in body
        await provider.aclose()
    with serve(fake.create_app(plan, version="1.25")) as base:
        provider = make("koboldcpp", base)
        events, error = await collect(provider, request(max_tokens=2))
        assert error is None and text_of(events) == "Hello,"
        assert gen_requests(plan, "/api/v1/generate")  # no streaming before 1.30
        await provider.aclose()
