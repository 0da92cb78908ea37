"""Azure OpenAI against the fake Azure resource: deployments, api-version, filter, advice."""

from __future__ import annotations

import pytest

from pytavern.errors import (
    AuthError,
    ConfigError,
    ContentFilteredError,
    RateLimitError,
    StreamInterruptedError,
    UpstreamNotFoundError,
)
from pytavern.providers import create_provider
from pytavern.providers.azure import endpoint_of
from pytavern.providers.base import ConnectionConfig
from tests.fakes import azure_fake
from tests.fakes.flavours_native import FAKES
from tests.fakes.server import FaultPlan, serve
from tests.providers.chat_helpers import (
    FAST,
    collect,
    finished,
    partial_then_error,
    provider_for,
    request,
    text_of,
    usage_of,
)

KEY = azure_fake.DEFAULT_KEY


def test_endpoint_is_cut_back_from_a_pasted_request_url() -> None:
    pasted = "https://res.openai.azure.com/openai/deployments/x/chat/completions?api-version=1"
    config = ConnectionConfig(name="a", api="azure", url=pasted)
    assert endpoint_of(config) == "https://res.openai.azure.com"


def test_a_deployment_is_required() -> None:
    with pytest.raises(ConfigError, match="names no deployment") as caught:
        provider_for("azure", "https://res.openai.azure.com", KEY)
    assert "--option deployment=NAME" in (caught.value.hint or "")


async def test_request_reaches_the_deployment_with_api_key_and_version() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["azure"].start(plan, **FAST) as config:
        provider = create_provider(config)
        events = await collect(provider, request("one two", stop=list("abcdef")))
        assert text_of(events) == "Echo: one two" and finished(events).reason == "stop"
        assert usage_of(events) is not None
        sent = plan.requests[-1]
        assert sent["path"] == "/openai/deployments/chat-4o/chat/completions"
        assert sent["query"] == {"api-version": "2024-10-21"}
        assert sent["headers"]["api-key"] == KEY and "authorization" not in sent["headers"]
        assert sent["body"]["stop"] == list("abcd")
        plain = await collect(provider, request("x y", stream=False))
        assert text_of(plain) == "Echo: x y"
        await provider.aclose()


async def test_check_lists_deployments_and_wants_the_configured_one() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["azure"].start(plan, **FAST) as config:
        provider = create_provider(config)
        status = await provider.check()
        assert status.ok and set(status.models) == {"chat-4o", "mini"}
        assert plan.requests[-1]["query"] == {"api-version": "2022-12-01"}
        await provider.aclose()
        missing = provider_for("azure", config.url, KEY, deployment="gone")
        status = await missing.check()
        assert not status.ok and "no deployment 'gone'" in status.summary
        assert "Deployments" in (status.hint or "")
        with pytest.raises(UpstreamNotFoundError, match="deployment for this resource"):
            await collect(missing, request("x"))
        await missing.aclose()


async def test_resource_without_a_list_is_checked_with_one_token() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    app = azure_fake.create_app(plan, lists_deployments=False)
    with serve(app) as url:
        provider = provider_for("azure", url, KEY, model="mini", **FAST)
        status = await provider.check()
        assert status.ok and status.models == ("mini",) and "1-token" in status.summary
        assert plan.requests[-1]["body"]["max_tokens"] == 1
        assert [m.id for m in await provider.list_models()] == ["mini"]
        await provider.aclose()
        wrong = provider_for("azure", url, KEY, model="mini", api_version="1999-01-01")
        status = await wrong.check()
        assert not status.ok and "Resource not found" in status.summary
        assert "api_version" in (status.hint or "")
        await wrong.aclose()


async def test_bad_key_names_the_portal_page_and_hides_the_key() -> None:
    secret = "fedcba9876543210SECRET"
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["azure"].start(plan, **FAST) as config:
        provider = provider_for("azure", config.url, secret, deployment="chat-4o")
        status = await provider.check()
        assert not status.ok and "Access denied" in status.summary
        assert "Keys and Endpoint" in (status.hint or "")
        with pytest.raises(AuthError) as caught:
            await collect(provider, request("x"))
        assert secret not in str(caught.value) + str(caught.value.hint)
        await provider.aclose()


async def test_content_filter_on_prompt_and_on_reply() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["azure"].start(plan, **FAST) as config:
        provider = create_provider(config)
        with pytest.raises(ContentFilteredError, match="content filter") as caught:
            await collect(provider, request("something forbidden"))
        assert "Rephrase" in (caught.value.hint or "")
        events = await collect(provider, request("fine then unsafe words"))
        assert text_of(events) == "Echo: fine then"
        assert finished(events).reason == "content_filter"
        await provider.aclose()


async def test_rate_limit_advice_and_cut_stream() -> None:
    plan = FaultPlan(stall_seconds=1.0)
    with FAKES["azure"].start(plan, **FAST) as config:
        provider = create_provider(config)
        plan.arm("429", "429")
        with pytest.raises(RateLimitError, match="exceeded token rate limit") as caught:
            await collect(provider, request("x"))
        assert "tokens-per-minute quota" in (caught.value.hint or "")
        plan.arm("cut")
        got, error = await partial_then_error(provider, request("one two three four"))
        assert got == "Echo:" and isinstance(error, StreamInterruptedError)
        await provider.aclose()
