"""AI21 (Jamba) against its fake: check, models, streamed send, faults, key advice."""

from __future__ import annotations

from pytavern.errors import StreamInterruptedError
from pytavern.providers import ai21
from tests.providers.chat_helpers import request
from tests.providers.flavours import common

API = "ai21"


def test_declared() -> None:
    common.declared(API, "https://api.ai21.com/studio/v1", "AI21_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == "/studio/v1/chat/completions"
    assert sent["body"]["model"] == "jamba-mini"
    assert sent["headers"]["authorization"] == f"Bearer {common.FAKES[API].key}"


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, ai21.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


async def test_a_reply_failing_mid_stream_keeps_what_arrived() -> None:
    """AI21 has no error event: a reply that fails mid-stream ends without ``[DONE]``."""
    _got, error = await common.failed_mid_stream(API)
    assert isinstance(error, StreamInterruptedError)
    assert "ended before the reply was finished" in str(error)
    assert "continue or regenerate" in (error.hint or "")


async def test_only_jamba_samplers_are_sent() -> None:
    req = request("hello there", temperature=0.4, frequency_penalty=0.5, seed=3, top_k=9)
    _events, sent = await common.streamed_send(API, req)
    body = sent["body"]
    assert body["temperature"] == 0.4
    assert not {"frequency_penalty", "seed", "top_k"} & set(body)
