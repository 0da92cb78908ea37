"""Mistral against its fake: check, models, streamed send, faults, and its schema quirks."""

from __future__ import annotations

import dataclasses

import pytest

from pytavern.errors import BadRequestError
from pytavern.providers import mistral
from tests.providers.chat_helpers import collect, request, text_of
from tests.providers.flavours import common

API = "mistral"


def test_declared() -> None:
    common.declared(API, "https://api.mistral.ai/v1", "MISTRAL_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send_is_what_mistral_takes() -> None:
    req = request("hello there", seed=7, temperature=0.3, top_k=5)
    _events, sent = await common.streamed_send(API, req)
    body = sent["body"]
    assert body["safe_prompt"] is False and body["random_seed"] == 7
    assert "seed" not in body and "stream_options" not in body and "top_k" not in body


async def test_prefill_is_continued_with_prefix() -> None:
    with common.running(API) as (provider, plan):
        events = await collect(provider, request("go on", prefill="Once upon "))
        await provider.aclose()
    assert text_of(events) == "Echo: go on"
    assert plan.requests[-1]["body"]["messages"][-1] == {
        "role": "assistant",
        "content": "Once upon",
        "prefix": True,
    }


async def test_refused_field_is_explained() -> None:
    with common.running(API, model="mistral-small-latest") as (provider, _plan):
        # without Mistral's body hook, the OpenAI body is refused as the real API does
        provider.flavour = dataclasses.replace(mistral.FLAVOUR, body=None)  # type: ignore[attr-defined]
        with pytest.raises(BadRequestError) as caught:
            await collect(provider, request("hi", seed=1))
        await provider.aclose()
    assert "422" in str(caught.value) and "Extra inputs are not permitted" in str(caught.value)
    assert "Mistral refused a field" in (caught.value.hint or "")


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, mistral.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)
