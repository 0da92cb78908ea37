"""Groq against its fake: check, models, streamed send, faults, stop limit, refused fields."""

from __future__ import annotations

from pytavern.providers import _openai_wire as wire
from pytavern.providers import groq
from tests.providers.chat_helpers import request
from tests.providers.flavours import common

API = "groq"


def test_declared() -> None:
    common.declared(API, "https://api.groq.com/openai/v1", "GROQ_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send_cuts_the_stop_list_to_four() -> None:
    _events, sent = await common.streamed_send(API, request("hi", stop=list("abcdef")))
    assert sent["path"] == "/openai/v1/chat/completions"
    assert sent["body"]["stop"] == ["a", "b", "c", "d"]


def test_refused_fields_are_never_sent() -> None:
    options = {"logprobs": True, "n": 2}
    body = groq.body_fields({"model": "m", "logit_bias": {}, **options}, {})
    assert body == {"model": "m"}
    built = wire.build_body(request("hi", top_k=3), "m", groq.FLAVOUR, {}, stream=False)
    assert not set(built) & {*groq.REFUSED_FIELDS, "top_k"}


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, groq.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)
