"""The shared contract, run over every native cloud source's fake (``FAKES``).

Each source: check, models, streamed send, stop closing the upstream request, each fault of
``FaultPlan`` (retried statuses, a web page, a stall, a cut, a broken or failing stream),
and its key in no error.
"""

from __future__ import annotations

import pytest

from pytavern.errors import ProviderError, StreamProtocolError, UpstreamTimeoutError
from pytavern.providers import create_provider, get_spec
from pytavern.providers.base import ConnectionConfig, Provider
from tests.fakes.flavours_native import FAKES
from tests.fakes.server import FaultPlan
from tests.providers.chat_helpers import (
    FAST,
    collect,
    finished,
    partial_then_error,
    request,
    stop_after_first_text,
    text_of,
)

QUICK = {**FAST, "timeout_first_byte": 0.5, "timeout_gap": 0.5}
APIS = sorted(FAKES)


def _plan() -> FaultPlan:
    return FaultPlan(stall_seconds=1.0)


def _secret_free(error: BaseException, config: ConnectionConfig) -> None:
    text = f"{error} {getattr(error, 'hint', '')}"
    assert config.key and config.key not in text, "the key shows in an error"


def test_every_native_spec_is_registered_with_a_fake() -> None:
    for api in APIS:
        assert get_spec(api).name == api and get_spec(api).group == "chat"


@pytest.mark.parametrize("api", APIS)
async def test_check_models_and_streamed_send(api: str) -> None:
    plan = _plan()
    with FAKES[api].start(plan, **QUICK) as config:
        provider: Provider = create_provider(config)
        status = await provider.check()
        assert status.ok, status.summary
        assert config.key and config.key not in status.summary
        assert await provider.list_models()
        events = await collect(provider, request("one two three", temperature=0.5))
        assert text_of(events) == "Echo: one two three" and finished(events).reason == "stop"
        await provider.aclose()


@pytest.mark.parametrize("api", APIS)
async def test_stop_closes_the_upstream_request(api: str) -> None:
    plan = _plan()
    with FAKES[api].start(plan, **QUICK) as config:
        provider = create_provider(config)
        words = " ".join(f"w{i}" for i in range(40))
        assert await stop_after_first_text(provider, request(words), plan)
        assert plan.requests[-1]["disconnected"] and not plan.requests[-1]["completed"]
        await provider.aclose()


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("fault", ["429", "500", "503"])
async def test_refusals_before_the_reply_are_retried(api: str, fault: str) -> None:
    plan = _plan()
    with FAKES[api].start(plan, **QUICK) as config:
        provider = create_provider(config)
        plan.arm(fault)
        assert text_of(await collect(provider, request("hi"))) == "Echo: hi"
        plan.arm(fault, fault)
        with pytest.raises(ProviderError) as caught:
            await collect(provider, request("hi"))
        assert caught.value.hint and caught.value.retryable
        _secret_free(caught.value, config)
        await provider.aclose()


@pytest.mark.parametrize("api", APIS)
async def test_web_page_and_stall_before_the_reply(api: str) -> None:
    plan = _plan()
    with FAKES[api].start(plan, **{**QUICK, "max_retries": 0}) as config:
        provider = create_provider(config)
        plan.arm("html")
        with pytest.raises(StreamProtocolError, match="web page"):
            await collect(provider, request("x"))
        plan.arm("stall")
        with pytest.raises(UpstreamTimeoutError):
            await collect(provider, request("x"))
        await provider.aclose()


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("fault", ["cut", "malformed", "error_in_stream", "stall_mid"])
async def test_stream_faults_keep_what_arrived(api: str, fault: str) -> None:
    plan = _plan()
    with FAKES[api].start(plan, **QUICK) as config:
        provider = create_provider(config)
        plan.arm(fault)
        got, error = await partial_then_error(provider, request("one two three four five"))
        assert got.startswith("Echo:") and isinstance(error, ProviderError)
        assert error.hint
        _secret_free(error, config)
        await provider.aclose()


@pytest.mark.parametrize("api", APIS)
async def test_a_wrong_key_is_refused_without_showing_it(api: str) -> None:
    plan = _plan()
    with FAKES[api].start(plan, **QUICK) as config:
        wrong = _wrong_key(config)
        provider = create_provider(wrong)
        status = await provider.check()
        assert not status.ok and status.hint
        assert wrong.key and wrong.key not in f"{status.summary} {status.hint}"
        with pytest.raises(ProviderError) as caught:
            await collect(provider, request("x"))
        _secret_free(caught.value, wrong)
        await provider.aclose()


def _wrong_key(config: ConnectionConfig) -> ConnectionConfig:
    """The connection with a key the fake refuses (a service account's key: another RSA key)."""
    key = config.key or ""
    if key.lstrip().startswith("{"):
        import json

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        key = json.dumps({**json.loads(key), "private_key": pem})
    else:
        key = "WRONG-" + key[::-1]
    return ConnectionConfig(
        name=config.name,
        api=config.api,
        url=config.url,
        key=key,
        model=config.model,
        options=config.options,
    )
