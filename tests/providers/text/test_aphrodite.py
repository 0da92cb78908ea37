"""Aphrodite Engine against its fake: X-API-KEY, tokenize, int token bans, its samplers."""

from __future__ import annotations

from pytavern.errors import UpstreamNotFoundError
from pytavern.providers import get_spec
from pytavern.providers._samplers import token_ids
from tests.providers.text._flavour_checks import (
    check_lists_and_streams,
    flavour,
    refused_key_names_key_page,
    retries_then_keeps_a_cut_reply,
    sent,
)
from tests.providers.text._helpers import SECRET, collect, request, text_of

PATH = "/v1/completions"


async def test_check_models_and_streamed_send_with_both_key_headers() -> None:
    completion = await check_lists_and_streams("aphrodite", PATH)
    headers = completion["headers"]
    assert headers["x-api-key"] == SECRET and headers["authorization"] == f"Bearer {SECRET}"


async def test_faults_and_refused_key() -> None:
    await retries_then_keeps_a_cut_reply("aphrodite", PATH)
    await refused_key_names_key_page("aphrodite", "--api-keys")


async def test_count_tokens_with_the_served_model() -> None:
    async with flavour("aphrodite", model=None) as (provider, plan):
        assert await provider.count_tokens("a b c") == 4  # BOS + 3
        assert sent(plan, "/v1/tokenize")[0]["json"]["model"] == "fake-13b"


async def test_bans_go_as_ints_text_tokenized_and_samplers_named_aphrodite_s_way() -> None:
    async with flavour("aphrodite", model=None) as (provider, plan):
        req = request(
            max_tokens=3,
            banned_tokens=["42", "[7, 8]", '"shivers down"'],
            dynatemp_low=0.5,
            dynatemp_high=1.5,
            dry_multiplier=0.8,
            dry_penalty_last_n=512,
            dry_sequence_breakers=["\n", ":"],
            seed=-1,
        )
        events, error = await collect(provider, req)
        assert error is None, error
        assert text_of(events) == "Hello, traveler"
        body = sent(plan, PATH)[0]["json"]
        shivers = sent(plan, "/v1/tokenize")[0]["json"]
        assert shivers["prompt"] == "shivers down" and shivers["add_special_tokens"] is False
        assert body["custom_token_bans"][:3] == [42, 7, 8] and len(body["custom_token_bans"]) == 5
        assert body["dynatemp_min"] == 0.5 and body["dynatemp_max"] == 1.5
        assert body["dry_range"] == 512 and body["dry_sequence_breakers"] == ["\n", ":"]
        assert "seed" not in body and body["model"] == "fake-13b"


async def test_an_unknown_model_names_the_fix() -> None:
    async with flavour("aphrodite", model="not-served") as (provider, _plan):
        _events, error = await collect(provider, request())
        assert isinstance(error, UpstreamNotFoundError) and "does not exist" in str(error)
        assert error.hint and "connections models" in error.hint


def test_token_ids_and_spec() -> None:
    assert token_ids(" 12 ") == [12] and token_ids("[1, 2]") == [1, 2]
    assert token_ids("word") is None and token_ids("[1, x]") is None
    assert token_ids('["a"]') is None
    spec = get_spec("aphrodite")
    assert spec.tokenizer == "backend" and spec.capabilities.token_counting
