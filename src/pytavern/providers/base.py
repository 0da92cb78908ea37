"""The provider contract: what every backend module offers, and the connection it gets.

A provider is thin I/O glue around pure request builders and response parsers. It is built
from a ``ConnectionConfig`` (URL, model, options and the resolved key) by the registry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pytavern.events import Accumulator, StreamEvent
from pytavern.types import (
    ChatMessage,
    Completion,
    ConnectionStatus,
    GenerationRequest,
    ModelInfo,
    SamplerSettings,
    Usage,
)

Family = Literal["chat", "text", "local"]


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """Everything a provider needs to talk to one backend.

    ``api`` is the registry name (``openai``, ``koboldcpp``, ``local``...); ``options`` holds
    API-specific settings (extra headers, extra body fields, Horde workers...); ``key`` is the
    resolved secret, never persisted with the rest.
    """

    name: str
    api: str
    url: str | None = None
    model: str | None = None
    key: str | None = field(default=None, repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Provider(Protocol):
    """What every backend offers: check, list models, stream (and generate)."""

    api: str
    family: Family

    @property
    def name(self) -> str:
        """The connection's name, used in error messages."""
        ...

    def supported_samplers(self) -> frozenset[str]:
        """Names of the ``SamplerSettings`` fields this backend takes."""
        ...

    async def check(self) -> ConnectionStatus:
        """Check the connection for real and diagnose failures in plain words."""
        ...

    async def list_models(self) -> list[ModelInfo]:
        """Return the models the backend offers."""
        ...

    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Generate, yielding events; raise ``ProviderError`` on failure."""
        ...

    async def count_tokens(self, text: str) -> int | None:
        """How many tokens ``text`` takes with the backend's own tokenizer.

        ``None`` means this backend offers no way to count (no tokenize endpoint, or the
        tokenizer is an offline one the caller picks itself), so callers should stop asking
        and estimate; it is never a guess. Raises ``PytavernError`` when counting was
        possible but failed (``ProviderError`` for the request, ``ConfigError`` when a
        local piece such as a tokenizer file is missing). An empty text counts 0.
        """
        ...

    async def aclose(self) -> None:
        """Release what the provider holds (HTTP connections...)."""
        ...


@runtime_checkable
class SyncTokenCounter(Protocol):
    """A provider that can also count tokens synchronously and fast (its own vocabulary
    is in process, like the built-in model's), so a prompt builder may call it directly."""

    def count_tokens_sync(self, text: str) -> int:
        """How many tokens ``text`` takes, counted in process."""
        ...


@runtime_checkable
class CacheKeeper(Protocol):
    """A provider whose prompt cache a keep-warm ping keeps alive while a chat is idle
    (Claude's expires 5 minutes, or an hour, after its last use)."""

    def keep_warm_plan(self) -> tuple[int, float] | None:
        """How many pings its connection asks for and how many seconds apart, or ``None``
        when it asks for none (or its cache is off)."""
        ...

    async def keep_warm(self, request: GenerationRequest) -> Usage:
        """Send ``request`` again for one token, not streamed, so the cache of its prefix
        lives on; the usage the backend reported."""
        ...


def one_token_probe() -> GenerationRequest:
    """A non-streamed one-token request: how a check tests a route that lists no models."""
    return GenerationRequest(
        messages=(ChatMessage("user", "Hi"),),
        sampling=SamplerSettings(max_tokens=1),
        stream=False,
    )


async def generate(provider: Provider, request: GenerationRequest) -> Completion:
    """Run ``provider.stream`` to the end and return the accumulated completion."""
    accumulator = Accumulator()
    async for event in provider.stream(request):
        accumulator.feed(event)
    return accumulator.result()
