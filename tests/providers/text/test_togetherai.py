"""TogetherAI against its fake: the bare model array, 403 for a prompt over the context."""

from __future__ import annotations

from pytavern.errors import BadRequestError
from pytavern.providers import get_spec
from pytavern.providers.togetherai import KEY_PAGE, parse_together_models
from tests.providers.text._flavour_checks import (
    check_lists_and_streams,
    flavour,
    refused_key_names_key_page,
    retries_then_keeps_a_cut_reply,
    sent,
)
from tests.providers.text._helpers import collect, request

PATH = "/v1/completions"


async def test_check_models_and_streamed_send() -> None:
    completion = await check_lists_and_streams("togetherai", PATH)
    assert completion["headers"]["authorization"].startswith("Bearer ")


async def test_faults_and_refused_key() -> None:
    await retries_then_keeps_a_cut_reply("togetherai", PATH)
    await refused_key_names_key_page("togetherai", KEY_PAGE)


async def test_model_list_is_read_with_info_and_image_models_left_out() -> None:
    async with flavour("togetherai") as (provider, plan):
        models = await provider.list_models()
        assert [(m.id, m.name, m.context_length) for m in models] == [
            ("fake-13b", "fake-13b", 4097)
        ]
        (listing,) = sent(plan, "/api/models")
        assert "info" in listing["query"]


async def test_403_over_the_context_is_a_bad_request_with_the_fix() -> None:
    async with flavour("togetherai") as (provider, _plan):
        _events, error = await collect(provider, request(max_tokens=5000))
        assert isinstance(error, BadRequestError) and error.status_code == 403
        assert error.hint and "context" in error.hint and "max tokens" in error.hint


def test_parse_together_models_takes_name_as_id() -> None:
    body = [{"name": "a/b", "display_type": "chat"}, {"id": "c/d"}, {"name": "e", "type": "rerank"}]
    assert [m.id for m in parse_together_models(body)] == ["a/b", "c/d"]
    assert parse_together_models({"data": []}) == []
    spec = get_spec("togetherai")
    assert spec.key_required and spec.needs_model and spec.sampler_table == "vllm"
