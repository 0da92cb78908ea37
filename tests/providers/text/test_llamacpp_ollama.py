"""llama.cpp (native) and Ollama against their fakes; the ``ollama`` package keeps the
Ollama fake honest."""

from __future__ import annotations

import ollama
import pytest

from pytavern.errors import (
    AuthError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamNotFoundError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from pytavern.events import UsageEvent
from pytavern.providers.llamacpp import parse_frame, parse_props
from pytavern.providers.ollama import generate_body, parse_line
from tests.fakes import llamacpp as fake_llama
from tests.fakes import ollama as fake_ollama
from tests.fakes.server import FaultPlan, serve
from tests.providers.text._helpers import SECRET, collect, finished, make, request, text_of

MID_FAULTS = [
    ("cut", StreamInterruptedError),
    ("malformed", StreamProtocolError),
    ("error_in_stream", UpstreamServerError),
    ("stall_mid", UpstreamTimeoutError),
]


def posted(plan: FaultPlan, path: str) -> list[dict[str, object]]:
    return [r for r in plan.requests if r["path"] == path]


def test_pure_parsers() -> None:
    assert parse_frame({"content": "a", "stop": False}) == ("a", None, None)
    _text, reason, usage = parse_frame({"content": "", "stop": True, "stop_type": "limit"})
    assert reason == "length" and usage is not None
    assert parse_props({"model_path": "C:\\m\\x.gguf"}) == ("x.gguf", None)
    assert parse_line({"response": "b", "done": False}) == ("b", None, None)
    body = generate_body("P", {"top_k": 3}, model="m", stream=True, context_size=2048)
    assert body["raw"] is True and body["options"] == {"top_k": 3, "num_ctx": 2048}


async def test_llamacpp_check_stream_tokenize() -> None:
    plan = FaultPlan()
    with serve(fake_llama.create_app(plan, key=SECRET)) as base:
        provider = make("llamacpp", base + "/v1", key=SECRET)
        status = await provider.check()
        assert status.ok and status.model == "fake-8b.Q4_K_M.gguf"
        assert status.details["context_size"] == 4096
        events, error = await collect(
            provider, request(max_tokens=3, tfs=0.9, logit_bias={"15": -1.0}, banned_tokens=["x"])
        )
        assert error is None and text_of(events) == "Hello, traveler"
        assert [f.reason for f in finished(events)] == ["length"]
        assert any(isinstance(e, UsageEvent) and e.usage.output_tokens == 3 for e in events)
        body = posted(plan, "/completion")[0]["json"]
        assert isinstance(body, dict)
        assert body["n_predict"] == 3 and body["tfs_z"] == 0.9 and body["cache_prompt"] is True
        assert body["logit_bias"] == [[15, -1.0], ["x", False]]
        assert await provider.count_tokens("a b") == 2  # type: ignore[attr-defined]
        await provider.aclose()


async def test_llamacpp_loading_and_bad_key() -> None:
    plan = FaultPlan()
    with serve(fake_llama.create_app(plan, loading=True)) as base:
        provider = make("llamacpp", base, max_retries=0)
        status = await provider.check()
        assert not status.ok and "still loading" in status.summary
        await provider.aclose()
    with serve(fake_llama.create_app(plan, key="right")) as base:
        provider = make("llamacpp", base, key=SECRET)
        _, error = await collect(provider, request())
        assert isinstance(error, AuthError) and SECRET not in str(error)
        await provider.aclose()


@pytest.mark.parametrize(("fault", "kind"), MID_FAULTS)
async def test_llamacpp_mid_stream_faults(fault: str, kind: type) -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with serve(fake_llama.create_app(plan)) as base:
        provider = make("llamacpp", base, timeout_gap=0.3)
        plan.arm(fault)
        events, error = await collect(provider, request())
        assert isinstance(error, kind) and text_of(events).startswith("Hello")
        assert len(posted(plan, "/completion")) == 1
        await provider.aclose()


async def test_llamacpp_retries_503_then_succeeds() -> None:
    plan = FaultPlan()
    with serve(fake_llama.create_app(plan)) as base:
        provider = make("llamacpp", base)
        plan.arm("503", "429")
        events, error = await collect(provider, request())
        assert error is None and finished(events)
        assert len(posted(plan, "/completion")) == 3
        await provider.aclose()


async def test_ollama_check_models_stream() -> None:
    plan = FaultPlan()
    with serve(fake_ollama.create_app(plan)) as base:
        provider = make("ollama", base, model="llama3.2:3b", keep_alive=-1)
        status = await provider.check()
        assert status.ok and status.models == ("llama3.2:3b", "mistral:7b")
        events, error = await collect(provider, request(max_tokens=2, repetition_penalty=1.1))
        assert error is None and text_of(events) == "Hello,"
        assert [f.reason for f in finished(events)] == ["length"]
        usage = [e.usage for e in events if isinstance(e, UsageEvent)]
        assert usage and usage[0].output_tokens == 2
        body = posted(plan, "/api/generate")[0]["json"]
        assert isinstance(body, dict) and body["raw"] is True and body["keep_alive"] == -1
        assert body["options"]["num_predict"] == 2 and body["options"]["repeat_penalty"] == 1.1
        assert "<|im_end|>" in body["options"]["stop"]
        await provider.aclose()


async def test_ollama_model_not_pulled() -> None:
    with serve(fake_ollama.create_app(FaultPlan())) as base:
        provider = make("ollama", base, model="nope")
        _, error = await collect(provider, request())
        assert isinstance(error, UpstreamNotFoundError) and "ollama pull" in str(error)
        await provider.aclose()


@pytest.mark.parametrize(("fault", "kind"), MID_FAULTS)
async def test_ollama_mid_stream_faults(fault: str, kind: type) -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with serve(fake_ollama.create_app(plan)) as base:
        provider = make("ollama", base, model="mistral:7b", timeout_gap=0.3)
        plan.arm(fault)
        events, error = await collect(provider, request())
        assert isinstance(error, kind) and text_of(events).startswith("Hello")
        await provider.aclose()


async def test_official_ollama_package_reads_the_fake() -> None:
    plan = FaultPlan()
    with serve(fake_ollama.create_app(plan)) as base:
        client = ollama.AsyncClient(host=base)
        listed = await client.list()
        assert [m.model for m in listed.models] == ["llama3.2:3b", "mistral:7b"]
        parts = [
            part
            async for part in await client.generate(
                model="llama3.2:3b", prompt="Hi", raw=True, stream=True
            )
        ]
        assert "".join(p.response for p in parts) == "Hello, traveler. The road is long."
        assert parts[-1].done and parts[-1].done_reason == "stop" and parts[-1].eval_count == 9
        whole = await client.generate(model="llama3.2:3b", prompt="Hi", stream=False)
        assert whole.response.startswith("Hello")
        with pytest.raises(ollama.ResponseError, match="not found"):
            await client.generate(model="nope", prompt="Hi")


async def test_whole_replies_and_full_endpoint_urls() -> None:
    plan = FaultPlan()
    with serve(fake_llama.create_app(plan)) as base:
        provider = make("llamacpp", base + "/completion")
        events, error = await collect(provider, request(stream=False, max_tokens=2))
        assert error is None and text_of(events) == "Hello,"
        assert [f.reason for f in finished(events)] == ["length"]
        await provider.aclose()
    with serve(fake_ollama.create_app(plan)) as base:
        provider = make("ollama", base + "/api/generate", model="mistral:7b")
        events, error = await collect(provider, request(stream=False))
        assert error is None and text_of(events) == "Hello, traveler. The road is long."
        assert [f.reason for f in finished(events)] == ["stop"]
        await provider.aclose()
