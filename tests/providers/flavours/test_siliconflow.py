"""SiliconFlow against its fake: check, models, streamed send, faults, key advice."""

from __future__ import annotations

from pytavern.providers import siliconflow
from tests.providers.chat_helpers import reasoning_of, request
from tests.providers.flavours import common

API = "siliconflow"


def test_declared() -> None:
    common.declared(API, "https://api.siliconflow.com/v1", "SILICONFLOW_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "Qwen/Qwen3-8B"
    assert sent["headers"]["authorization"] == f"Bearer {common.FAKES[API].key}"


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, siliconflow.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


async def test_reasoning_and_open_model_samplers() -> None:
    events, sent = await common.streamed_send(API, request("hello there", top_k=20, min_p=0.1))
    assert reasoning_of(events) == "Thinking it over."
    assert (sent["body"]["top_k"], sent["body"]["min_p"]) == (20, 0.1)
