"""Cloudflare Workers AI against its fake: the account in the URL, Cloudflare's model
search and error envelope, streamed send, faults."""

from __future__ import annotations

import pytest

from pytavern.errors import BadRequestError, ConfigError, RateLimitError, StreamInterruptedError
from pytavern.providers import cloudflare, get_spec
from tests.fakes.vendors.cloudflare import ACCOUNT, CAPACITY
from tests.providers.chat_helpers import collect, provider_for, request, text_of
from tests.providers.flavours import common

API = "cloudflare"


def test_declared() -> None:
    spec = get_spec(API)
    assert spec.key_env == "CLOUDFLARE_API_TOKEN" and spec.default_model
    assert "account_id" in spec.options.model_fields


def test_url_is_built_from_the_account_id() -> None:
    provider = provider_for(API, None, "k", account_id=ACCOUNT)
    assert provider.http.base_url == (  # type: ignore[attr-defined]
        f"https://api.cloudflare.com/client/v4/accounts/{ACCOUNT}/ai/v1"
    )
    with pytest.raises(ConfigError) as caught:
        provider_for(API, None, "k")
    assert "account_id=ID" in (caught.value.hint or "")


def test_account_id_is_validated_where_set() -> None:
    with pytest.raises(ConfigError, match="account_id"):
        get_spec(API).validate_options({"account_id": "../../evil"})
    assert get_spec(API).validate_options({"account_id": ACCOUNT}) == {"account_id": ACCOUNT}


async def test_check_lists_models_from_the_model_search() -> None:
    await common.check_lists_models(API)
    with common.running(API) as (provider, plan):
        await provider.list_models()
        await provider.aclose()
    assert plan.requests[-1]["path"].endswith(f"/accounts/{ACCOUNT}/ai/models/search")
    assert plan.requests[-1]["query"]["task"] == "Text Generation"


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions"


async def test_refused_key_names_token_page() -> None:
    await common.refused_key_names_key_page(API, cloudflare.KEY_PAGE)


async def test_envelope_message_and_advice() -> None:
    with common.running(API, model="@cf/no/such") as (provider, _plan):
        with pytest.raises(BadRequestError) as caught:
            await collect(provider, request("hi"))
        await provider.aclose()
    assert "No such model @cf/no/such or task (code 5007)" in str(caught.value)
    assert "HTTP 400" in str(caught.value)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)


@pytest.mark.parametrize("stream", [True, False])
async def test_capacity_error_with_status_200_is_a_rate_limit(stream: bool) -> None:
    """Workers AI answers 3040 in its envelope with status 200: read, not 'no choices'."""
    with common.running(API) as (provider, plan):
        plan.arm("capacity")
        with pytest.raises(RateLimitError) as caught:
            await collect(provider, request("hi", stream=stream))
        assert text_of(await collect(provider, request("hi", stream=stream))) == "Echo: hi"
        await provider.aclose()
    assert f"Workers AI answered with an error: {CAPACITY} (code 3040)" in str(caught.value)
    assert caught.value.hint == cloudflare.CAPACITY_HINT


async def test_a_reply_failing_mid_stream_keeps_what_arrived() -> None:
    """Workers AI has no error event: a failing stream ends without finish_reason or
    ``[DONE]``, which is reported as cut short."""
    _got, error = await common.failed_mid_stream(API)
    assert isinstance(error, StreamInterruptedError)
    assert "continue or regenerate" in (error.hint or "")
