"""Fireworks AI against its fake: check, models, streamed send, faults, key advice."""

from __future__ import annotations

from pytavern.providers import fireworks
from tests.providers.chat_helpers import request
from tests.providers.flavours import common

API = "fireworks"


def test_declared() -> None:
    common.declared(API, "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == "/inference/v1/chat/completions"
    assert sent["body"]["model"] == "accounts/fireworks/models/llama-v3p1-8b-instruct"
    assert sent["headers"]["authorization"] == f"Bearer {common.FAKES[API].key}"


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, fireworks.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


async def test_open_model_samplers_reach_the_server() -> None:
    req = request("hello there", top_k=40, min_p=0.05, repetition_penalty=1.1)
    _events, sent = await common.streamed_send(API, req)
    body = sent["body"]
    assert (body["top_k"], body["min_p"], body["repetition_penalty"]) == (40, 0.05, 1.1)
