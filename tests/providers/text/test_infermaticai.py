"""InfermaticAI against its fake: chat-form whole answers read as text, LiteLLM errors."""

from __future__ import annotations

from pytavern.errors import RateLimitError, UpstreamServerError
from pytavern.providers import get_spec
from pytavern.providers.infermaticai import KEY_PAGE, message_as_text
from tests.providers.text._flavour_checks import (
    check_lists_and_streams,
    flavour,
    refused_key_names_key_page,
    retries_then_keeps_a_cut_reply,
)
from tests.providers.text._helpers import collect, finished, request, text_of

PATH = "/v1/completions"


async def test_check_models_and_streamed_send() -> None:
    completion = await check_lists_and_streams("infermaticai", PATH)
    assert completion["headers"]["authorization"].startswith("Bearer ")


async def test_faults_and_refused_key() -> None:
    await retries_then_keeps_a_cut_reply("infermaticai", PATH)
    await refused_key_names_key_page("infermaticai", "infermatic.ai")


async def test_a_whole_answer_in_chat_form_is_read_as_text() -> None:
    async with flavour("infermaticai") as (provider, _plan):
        events, error = await collect(provider, request(stream=False, max_tokens=3))
        assert error is None and text_of(events) == "Hello, traveler"
        assert [f.reason for f in finished(events)] == ["length"]


async def test_litellm_errors_keep_their_message_and_advice() -> None:
    async with flavour("infermaticai", options={"max_retries": 0}) as (provider, plan):
        plan.arm("500")
        _events, error = await collect(provider, request())
        assert isinstance(error, UpstreamServerError) and "Internal server error" in str(error)
        plan.arm("429")
        _events, error = await collect(provider, request())
        assert isinstance(error, RateLimitError) and error.hint and "per minute" in error.hint


def test_message_as_text() -> None:
    chat = {"choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}
    assert message_as_text(chat)["choices"][0]["text"] == "hi"
    assert message_as_text({"choices": [{"text": "t"}]}) == {"choices": [{"text": "t"}]}
    assert message_as_text([1]) == [1]
    assert KEY_PAGE.startswith("https://infermatic.ai")
    assert get_spec("infermaticai").default_url == "https://api.totalgpt.ai"
