"""The provider contract: what every backend module offers, and the connection it gets.

A provider is thin I/O glue around pure request builders and response parsers. It is built
from a ``ConnectionConfig`` (URL, model, options and the resolved key) by the registry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pytavern.events import Accumulator, StreamEvent
from pytavern.types import Completion, ConnectionStatus, GenerationRequest, ModelInfo

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

    async def aclose(self) -> None:
        """Release what the provider holds (HTTP connections...)."""
        ...


async def generate(provider: Provider, request: GenerationRequest) -> Completion:
    """Run ``provider.stream`` to the end and return the accumulated completion."""
    accumulator = Accumulator()
    async for event in provider.stream(request):
        accumulator.feed(event)
    return accumulator.result()
