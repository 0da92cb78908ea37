"""HuggingFace TGI against its fake: /info, model "tgi", TGI's strict sampler validation."""

from __future__ import annotations

from pytavern.errors import BadRequestError, UpstreamServerError
from pytavern.providers import get_spec
from pytavern.providers.huggingface import KEY_PAGE, parse_info, tgi_samplers
from tests.providers.text._flavour_checks import (
    check_lists_and_streams,
    flavour,
    refused_key_names_key_page,
    retries_then_keeps_a_cut_reply,
    sent,
)
from tests.providers.text._helpers import collect, request, text_of

PATH = "/v1/completions"


async def test_check_reads_info_and_send_names_model_tgi() -> None:
    completion = await check_lists_and_streams("huggingface", PATH)
    assert completion["json"]["model"] == "tgi"
    async with flavour("huggingface") as (provider, _plan):
        status = await provider.check()
        assert status.model == "fake-13b"
        assert (await provider.list_models())[0].context_length == 4096


async def test_faults_and_refused_key() -> None:
    await retries_then_keeps_a_cut_reply("huggingface", PATH)
    await refused_key_names_key_page("huggingface", KEY_PAGE)


async def test_top_p_one_greedy_temperature_and_five_stops_pass_validation() -> None:
    async with flavour("huggingface") as (provider, plan):
        stops = ["\nA:", "\nB:", "\nC:", "\nD:", "\nE:"]
        req = request(max_tokens=3, top_p=1.0, top_k=40, presence_penalty=0.5, stop=stops)
        events, error = await collect(provider, req)
        assert error is None and text_of(events) == "Hello, traveler"
        body = sent(plan, PATH)[0]["json"]
        assert body["top_p"] == 0.999 and len(body["stop"]) == 4 and "<|im_end|>" in body["stop"]
        assert "top_k" not in body and "presence_penalty" not in body
        events, error = await collect(provider, request(temperature=0.0, top_p=0.9))
        assert error is None and text_of(events).startswith("Hello")
        body = sent(plan, PATH)[1]["json"]
        assert "temperature" not in body and "top_p" not in body


async def test_validation_error_and_starting_endpoint_say_what_to_do() -> None:
    async with flavour("huggingface", options={"max_retries": 0}) as (provider, plan):
        _events, error = await collect(provider, request(repetition_penalty=0.0))
        assert isinstance(error, BadRequestError) and "repetition_penalty" in str(error)
        assert error.hint and "sampler value" in error.hint
        plan.arm("503")
        _events, error = await collect(provider, request())
        assert (
            isinstance(error, UpstreamServerError) and error.hint and "scaled to zero" in error.hint
        )


def test_pure_parts() -> None:
    assert tgi_samplers({"temperature": 0, "top_p": 0.5}) == {}
    assert tgi_samplers({"top_p": 1}) == {"top_p": 0.999}
    assert tgi_samplers({"top_p": 0.9, "temperature": 0.7}) == {"top_p": 0.9, "temperature": 0.7}
    assert parse_info({"model_id": "m", "max_total_tokens": 8}) == parse_info(
        {"model_id": "m", "max_total_tokens": 8, "version": "3"}
    )
    assert parse_info([]) == []
    spec = get_spec("huggingface")
    assert spec.needs_url and not spec.key_required and spec.default_model == "tgi"
