"""Shared helpers for the text-backend tests."""

from __future__ import annotations

from typing import Any

from pytavern.errors import ProviderError
from pytavern.events import Finished, StreamEvent, TextDelta
from pytavern.providers import create_provider
from pytavern.providers._text import TextProvider
from pytavern.providers.base import ConnectionConfig
from pytavern.types import ChatMessage, GenerationRequest, SamplerSettings

FAST = {
    "timeout_first_byte": 0.5,
    "timeout_gap": 0.5,
    "retry_base_delay": 0.01,
    "retry_max_delay": 0.01,
}
"""Options that keep fault tests fast."""

SECRET = "sk-test-SECRET-4242"


def make(
    api: str, url: str, *, key: str | None = None, model: str | None = None, **options: Any
) -> TextProvider:
    """Build the provider for ``api`` at ``url`` with fast timeouts."""
    config = ConnectionConfig(
        name="conn", api=api, url=url, key=key, model=model, options={**FAST, **options}
    )
    provider = create_provider(config)
    assert isinstance(provider, TextProvider)
    return provider


def request(
    text: str = "Hi", *, stream: bool = True, prompt: str | None = None, **sampling: Any
) -> GenerationRequest:
    """A one-message request."""
    return GenerationRequest(
        messages=(ChatMessage("user", text),),
        sampling=SamplerSettings(**sampling),
        prompt=prompt,
        stream=stream,
    )


async def collect(
    provider: TextProvider, req: GenerationRequest
) -> tuple[list[StreamEvent], ProviderError | None]:
    """Run the stream to its end; return the events and the error raised, if any."""
    events: list[StreamEvent] = []
    try:
        async for event in provider.stream(req):
            events.append(event)
    except ProviderError as error:
        return events, error
    return events, None


def text_of(events: list[StreamEvent]) -> str:
    """The text carried by ``events``."""
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def finished(events: list[StreamEvent]) -> list[Finished]:
    """The ``Finished`` events among ``events``."""
    return [e for e in events if isinstance(e, Finished)]
