"""NovelAI against the fake; client-side stop strings (token ids: test_novelai_tokens.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytavern.errors import (
    AuthError,
    MissingKeyError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamServerError,
)
from pytavern.providers._stops import StopMatcher
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.novelai import NovelAIProvider, generate_body, parameters
from tests.fakes import novelai as fake
from tests.fakes.server import FaultPlan, serve
from tests.providers.text._helpers import SECRET, collect, finished, make, request, text_of


def test_body_and_parameters() -> None:
    params = parameters(
        {"tail_free_sampling": 0.9, "order": [0, 1]}, {"prefix": "special_instruct"}
    )
    assert params["use_string"] is True and params["order"] == [0, 1]
    assert params["prefix"] == "special_instruct" and params["max_length"] == 150
    body = generate_body("Hi", "llama-3-erato-v1", params)
    assert body["input"] == "<|startoftext|><|reserved_special_token81|>Hi"  # as SillyTavern
    assert generate_body("<|startoftext|>Hi", "llama-3-erato-v1", params)["input"].count("<|") == 1
    assert generate_body("Hi", "kayra-v1", params)["input"] == "Hi"
    assert parameters({"max_length": 300}, {})["max_length"] == 150  # NovelAI's cap


@given(st.text(alphabet="ab<|>", max_size=30), st.lists(st.integers(1, 5), max_size=8))
def test_stop_matcher_equals_whole_text_cut(text: str, cuts: list[int]) -> None:
    stops = ["<|a", "bb"]
    matcher = StopMatcher(stops)
    pieces, start = [], 0
    for size in cuts:
        pieces.append(text[start : start + size])
        start += size
    pieces.append(text[start:])
    shown = "".join(matcher.feed(p) for p in pieces) + matcher.flush()
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    assert shown == (text[: min(hits)] if hits else text)
    assert matcher.stopped == bool(hits)


async def test_check_stream_and_whole() -> None:
    plan = FaultPlan()
    with serve(fake.create_app(plan, key=SECRET)) as base:
        provider = make("novelai", base, key=SECRET, model="kayra-v1")
        status = await provider.check()
        assert status.ok and status.details["tier_name"] == "Opus"
        assert [m.id for m in await provider.list_models()][-1] == "llama-3-erato-v1"
        events, error = await collect(
            provider, request(max_tokens=4, tfs=0.9, sampler_order=["temperature", "top_k"])
        )
        assert error is None and text_of(events) == "Hello, traveler."
        sent = next(r for r in plan.requests if r["path"] == "/ai/generate-stream")["json"]
        assert isinstance(sent, dict) and sent["model"] == "kayra-v1"
        assert sent["parameters"]["tail_free_sampling"] == 0.9
        assert sent["parameters"]["order"] == [0, 1]
        assert sent["parameters"]["stop_sequences"]  # token ids (test_novelai_tokens.py)
        events, error = await collect(provider, request(stream=False, max_tokens=2))
        assert error is None and text_of(events) == "Hello,"
        await provider.aclose()


async def test_stop_string_cuts_and_closes() -> None:
    plan = FaultPlan()
    with serve(fake.create_app(plan, key=SECRET)) as base:
        provider = make("novelai", base, key=SECRET)
        events, error = await collect(provider, request(stop=[" The"]))
        assert error is None and text_of(events) == "Hello, traveler."
        assert [f.reason for f in finished(events)] == ["stop_sequence"]
        await provider.aclose()


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("cut", StreamInterruptedError),
        ("malformed", StreamProtocolError),
        ("error_in_stream", UpstreamServerError),
    ],
)
async def test_mid_stream_faults(fault: str, kind: type) -> None:
    plan = FaultPlan()
    with serve(fake.create_app(plan, key=SECRET)) as base:
        provider = make("novelai", base, key=SECRET)
        plan.arm(fault)
        events, error = await collect(provider, request())
        assert isinstance(error, kind) and text_of(events).startswith("Hello")
        await provider.aclose()


async def test_keys() -> None:
    with pytest.raises(MissingKeyError, match="NOVELAI_API_KEY"):
        make("novelai", "http://127.0.0.1:9")
    plan = FaultPlan()
    with serve(fake.create_app(plan, key="right")) as base:
        provider = make("novelai", base, key=SECRET)
        status = await provider.check()
        assert not status.ok and "Access Token is incorrect" in status.summary
        _, error = await collect(provider, request())
        assert isinstance(error, AuthError) and SECRET not in str(error)
        await provider.aclose()


def test_official_hosts_are_chosen_per_model() -> None:
    for url in (None, "https://text.novelai.net"):  # the registry's default URL is no override
        provider = NovelAIProvider(ConnectionConfig(name="n", api="novelai", url=url, key="k"))
        assert provider.host_for("clio-v1") == "https://api.novelai.net"
        assert provider.host_for("kayra-v1") == "https://text.novelai.net"
    proxy = NovelAIProvider(
        ConnectionConfig(name="n", api="novelai", url="http://127.0.0.1:9/", key="k")
    )
    assert proxy.host_for("clio-v1") == "http://127.0.0.1:9"
