"""Generic OpenAI-compatible completions against a strict OpenAI-completions fake."""

from __future__ import annotations

from pytavern.errors import BadRequestError
from pytavern.providers import get_spec
from pytavern.providers._text_flavour import limit_stops
from tests.providers.text._flavour_checks import (
    check_lists_and_streams,
    flavour,
    refused_key_names_key_page,
    retries_then_keeps_a_cut_reply,
    sent,
)
from tests.providers.text._helpers import collect, request, text_of

PATH = "/v1/completions"


async def test_check_models_and_streamed_send() -> None:
    completion = await check_lists_and_streams("generic", PATH)
    assert completion["headers"]["authorization"].startswith("Bearer ")


async def test_faults_and_refused_key() -> None:
    await retries_then_keeps_a_cut_reply("generic", PATH)
    await refused_key_names_key_page("generic", "connections add fake-generic --api generic")


async def test_body_has_only_openai_fields_and_four_stops() -> None:
    async with flavour("generic") as (provider, plan):
        stops = ["\nA:", "\nB:", "\nC:", "\nD:", "\nE:"]
        req = request(max_tokens=3, top_k=40, min_p=0.1, repetition_penalty=1.1, stop=stops)
        events, error = await collect(provider, req)
        assert error is None and text_of(events) == "Hello, traveler"
        body = sent(plan, PATH)[0]["json"]
        assert "top_k" not in body and "min_p" not in body and "repetition_penalty" not in body
        assert body["stop"] == ["<|im_end|>", "\nA:", "\nB:", "\nC:"]


async def test_a_connection_without_model_uses_the_first_listed() -> None:
    async with flavour("generic", model=None) as (provider, plan):
        events, error = await collect(provider, request())
        assert error is None and text_of(events).startswith("Hello")
        assert sent(plan, PATH)[0]["json"]["model"] == "fake-13b"


async def test_a_refused_request_names_the_server_and_keeps_no_key() -> None:
    async with flavour("generic", options={"max_retries": 0}) as (provider, plan):
        plan.arm("html")
        _events, error = await collect(provider, request(stream=False))
        assert error is not None and "web page" in str(error)
    spec = get_spec("generic")
    assert spec.needs_model and spec.sampler_table == "generic" and spec.group == "text"


async def test_no_model_listed_fails_check_and_send_with_the_fix() -> None:
    async with flavour("generic", model=None) as (provider, _plan):
        provider.list_models = _no_models  # type: ignore[method-assign]
        status = await provider.check()
        assert not status.ok and status.hint and "--model MODEL" in status.hint
        _events, error = await collect(provider, request())
        assert isinstance(error, BadRequestError) and "--model MODEL" in str(error)


async def _no_models() -> list[object]:
    return []


def test_limit_stops_keeps_the_end_marker_first() -> None:
    assert limit_stops(["a", "b", "<|im_end|>", "c", "d"], 4) == ["<|im_end|>", "a", "b", "c"]
    assert limit_stops(["a"], 4) == ["a"]
