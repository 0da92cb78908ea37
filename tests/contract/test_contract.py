"""One contract for every registered backend, each against its fake (``backends.FAKES``):
check, list models, streamed send, stop, each fault, and the key never in any output or
error text. A registered spec without a fake fails ``test_every_spec_has_a_fake``."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from pytavern.errors import (
    PytavernError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from pytavern.events import Finished, StreamEvent, TextDelta
from pytavern.providers import create_provider, get_spec, specs
from pytavern.providers.base import Provider
from pytavern.types import ChatMessage, GenerationRequest, SamplerSettings
from tests.contract.backends import FAKES, EchoCredentials, secrets_of
from tests.fakes.server import FaultPlan, serve

FAST = {
    "timeout_first_byte": 2.0,
    "timeout_gap": 2.0,
    "retry_base_delay": 0.01,
    "retry_max_delay": 0.01,
}
FAULT_ERRORS: dict[str, type[PytavernError]] = {
    "429": RateLimitError,
    "500": UpstreamServerError,
    "cut": StreamInterruptedError,
    "malformed": StreamProtocolError,
    "stall": UpstreamTimeoutError,
    "html": StreamProtocolError,
}
QUICK_TIMEOUT = {"timeout_first_byte": 0.25, "timeout_gap": 0.25}
"""For the stall fault: shorter than the fake's stall (``FaultPlan.stall_seconds``)."""
NAMES = sorted(spec.name for spec in specs())
HTTP_NAMES = [name for name in NAMES if FAKES.get(name) and FAKES[name].app is not None]
FAULT_CASES = [(name, fault) for name in HTTP_NAMES for fault in FAKES[name].faults]


@dataclass
class Served:
    """A running fake and a provider connected to it."""

    provider: Provider
    plan: FaultPlan
    echo: EchoCredentials | None
    secrets: tuple[str, ...]


def _request(max_tokens: int = 16) -> GenerationRequest:
    return GenerationRequest(
        messages=(ChatMessage("user", "Hello there, how are you?"),),
        sampling=SamplerSettings(max_tokens=max_tokens, temperature=0.7),
        prompt="User: Hello there, how are you?\nAssistant:",
    )


@asynccontextmanager
async def served(name: str, **options: Any) -> AsyncIterator[Served]:
    """Serve ``name``'s fake (or nothing, for an in-process backend) and connect to it;
    the provider is closed at the end."""
    fake = FAKES[name]
    plan = FaultPlan(stall_seconds=0.5)
    with ExitStack() as stack:
        echo: EchoCredentials | None = None
        root: str | None = None
        if fake.app is None:
            if name == "local" and importlib.util.find_spec("llama_cpp") is None:
                pytest.skip("llama-cpp-python is not installed")
        else:
            echo = EchoCredentials(fake.app(plan, fake.key))
            root = stack.enter_context(serve(echo))
        config = fake.config(name, root, **{**FAST, **options})
        provider = create_provider(config)
        try:
            yield Served(provider, plan, echo, secrets_of(config))
        finally:
            await provider.aclose()


async def _events(stream: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in stream]


def _text(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def _no_key(secrets: tuple[str, ...], *texts: object) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in str(text), f"the key leaked: {text!r}"


def _lists_models(name: str) -> bool:
    """Whether ``name``'s spec declares a model list (Perplexity, AI21... have none)."""
    return get_spec(name).capabilities.model_list


def test_every_spec_has_a_fake() -> None:
    missing = sorted(set(NAMES) - set(FAKES))
    assert not missing, f"registered without a fake in tests/contract/backends.py: {missing}"
    stale = sorted(set(FAKES) - set(NAMES))
    assert not stale, f"fakes for API types no longer registered: {stale}"
    for name in NAMES:
        fake = FAKES[name]
        assert set(fake.faults) <= set(FAULT_ERRORS), name
        if fake.app is None or set(fake.faults) != set(FAULT_ERRORS):
            assert fake.why, f"{name}: say why its fake injects only {fake.faults}"


@pytest.mark.parametrize("name", NAMES)
async def test_check_models_and_streamed_send(name: str) -> None:
    async with served(name) as s:
        status = await s.provider.check()
        assert status.ok, status
        models = await s.provider.list_models() if _lists_models(name) else []
        assert models or not _lists_models(name)
        assert all(m.id for m in models)
        events = await _events(s.provider.stream(_request()))
        assert _text(events).strip()
        assert isinstance(events[-1], Finished)
        _no_key(s.secrets, status, models, events)


@pytest.mark.parametrize("name", NAMES)
async def test_stop_ends_the_stream_and_the_provider_stays_usable(name: str) -> None:
    async with served(name) as s:
        stream = s.provider.stream(_request(max_tokens=16))
        first = await anext(aiter(stream))
        while not isinstance(first, TextDelta):
            first = await anext(aiter(stream))
        await stream.aclose()  # what the engine does on stop
        events = await _events(s.provider.stream(_request(max_tokens=16)))
        assert isinstance(events[-1], Finished)


@pytest.mark.parametrize(("name", "fault"), FAULT_CASES)
async def test_each_fault_is_a_clear_error_without_the_key(name: str, fault: str) -> None:
    timeouts = QUICK_TIMEOUT if fault == "stall" else {}
    async with served(name, max_retries=0, **timeouts) as s:
        s.plan.arm(fault)
        with pytest.raises(PytavernError) as caught:
            await _events(s.provider.stream(_request(max_tokens=16)))
        error = caught.value
        assert isinstance(error, FAULT_ERRORS[fault]), (type(error), error.message)
        assert error.message and "\n" not in error.message
        _no_key(s.secrets, error.message, error.hint, error)


@pytest.mark.parametrize("name", [n for n in HTTP_NAMES if "429" in FAKES[n].faults])
async def test_a_rate_limit_is_retried(name: str) -> None:
    async with served(name, max_retries=2) as s:
        s.plan.arm("429")
        events = await _events(s.provider.stream(_request()))
        assert _text(events).strip() and isinstance(events[-1], Finished)


@pytest.mark.parametrize("name", HTTP_NAMES)
async def test_key_never_in_errors_even_when_the_server_quotes_it(name: str) -> None:
    async with served(name, max_retries=0) as s:
        assert s.echo is not None
        s.echo.armed = True
        status = await s.provider.check()
        assert not status.ok
        _no_key(s.secrets, status.summary, status.hint, status.details)
        with pytest.raises(PytavernError) as caught:
            await _events(s.provider.stream(_request()))
        _no_key(s.secrets, caught.value.message, caught.value.hint, caught.value)
        try:  # a backend with a fixed model list (NovelAI) answers without asking
            _no_key(s.secrets, await s.provider.list_models())
        except PytavernError as error:
            _no_key(s.secrets, error.message, error.hint)
