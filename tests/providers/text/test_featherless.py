"""Featherless against its fake: catalogue filtered by plan, app headers, gated and cold
models, concurrency limit advice."""

from __future__ import annotations

from pytavern.errors import AuthError, BadRequestError, RateLimitError
from pytavern.providers import get_spec
from pytavern.providers.featherless import KEY_PAGE, MODELS_PAGE
from tests.fakes.text_flavours import COLD_MODEL, GATED_MODEL
from tests.providers.text._flavour_checks import (
    check_lists_and_streams,
    flavour,
    refused_key_names_key_page,
    retries_then_keeps_a_cut_reply,
    sent,
)
from tests.providers.text._helpers import collect, request, text_of

PATH = "/v1/completions"


async def test_check_models_and_streamed_send_with_app_headers() -> None:
    completion = await check_lists_and_streams("featherless", PATH)
    headers = completion["headers"]
    assert headers["authorization"].startswith("Bearer ")
    assert headers["http-referer"] and headers["x-title"] == "pytavern"


async def test_faults_and_refused_key() -> None:
    await retries_then_keeps_a_cut_reply("featherless", PATH)
    await refused_key_names_key_page("featherless", KEY_PAGE)


async def test_models_the_plan_cannot_run_are_left_out_and_first_is_used() -> None:
    async with flavour("featherless", model=None) as (provider, plan):
        models = await provider.list_models()
        assert [(m.id, m.context_length) for m in models] == [("fake-13b", 16384)]
        events, error = await collect(provider, request())
        assert error is None and text_of(events).startswith("Hello")
        assert sent(plan, PATH)[0]["json"]["model"] == "fake-13b"


async def test_gated_and_cold_models_say_what_to_do() -> None:
    async with flavour("featherless", model=GATED_MODEL) as (provider, _plan):
        _events, error = await collect(provider, request())
        assert isinstance(error, AuthError) and error.hint and "licence" in error.hint
        assert MODELS_PAGE in error.hint
    async with flavour("featherless", model=COLD_MODEL) as (provider, _plan):
        _events, error = await collect(provider, request())
        assert isinstance(error, BadRequestError) and error.hint and "cold" in error.hint


async def test_concurrency_limit_names_the_plan() -> None:
    async with flavour("featherless", options={"max_retries": 0}) as (provider, plan):
        plan.arm("429")
        _events, error = await collect(provider, request())
        assert isinstance(error, RateLimitError) and error.hint and "plan" in error.hint


def test_spec() -> None:
    spec = get_spec("featherless")
    assert spec.default_url == "https://api.featherless.ai/v1" and spec.key_required
    assert spec.group == "text" and spec.needs_model
