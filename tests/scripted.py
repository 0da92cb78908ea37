"""A scripted in-process provider for engine and CLI tests (like llm's MockModel).

It is registered under the API type ``scripted`` only inside tests. Each request takes the
next script: text chunks, an optional delay between them, and an optional error after them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from pydantic import ConfigDict

from pytavern.errors import ProviderError, StreamInterruptedError
from pytavern.events import Finished, StreamEvent, TextDelta, UsageEvent
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.spec import BackendSpec, CommonOptions
from pytavern.types import ConnectionStatus, GenerationRequest, ModelInfo, Usage


@dataclass
class Script:
    chunks: list[str]
    delay: float = 0.0
    error: ProviderError | None = None
    on_start: Callable[[], None] | None = None


@dataclass
class ScriptBook:
    scripts: list[Script] = field(default_factory=list)
    requests: list[GenerationRequest] = field(default_factory=list)
    closed: int = 0

    def next(self) -> Script:
        return self.scripts.pop(0) if self.scripts else Script(["Hello", " there", "!"])


BOOK = ScriptBook()


class ScriptedProvider:
    api = "scripted"
    family = "chat"

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config

    @property
    def name(self) -> str:
        return self.config.name

    def supported_samplers(self) -> frozenset[str]:
        """``temperature``, or the connection's ``samplers`` option when it has one."""
        return frozenset(self.config.options.get("samplers") or ["temperature"])

    async def check(self) -> ConnectionStatus:
        return ConnectionStatus(ok=True, summary="scripted provider ready")

    async def list_models(self) -> list[ModelInfo]:
        return [ModelInfo(id="scripted-1")]

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        BOOK.requests.append(request)
        script = BOOK.next()
        if script.on_start:
            script.on_start()
        try:
            for chunk in script.chunks:
                if script.delay:
                    await asyncio.sleep(script.delay)
                yield TextDelta(chunk)
            if script.error is not None:
                raise script.error
            yield UsageEvent(Usage(input_tokens=10, output_tokens=len(script.chunks)))
            yield Finished(reason="stop", model="scripted-1")
        finally:
            BOOK.closed += 1

    async def count_tokens(self, text: str) -> int | None:
        return None

    async def aclose(self) -> None:
        return None


def cut_error() -> StreamInterruptedError:
    return StreamInterruptedError(
        "the stream was cut before the reply ended", provider="scripted", hint="Try again"
    )


class ScriptedOptions(CommonOptions):
    """Any option goes (tests set ``samplers`` and other test-only options)."""

    model_config = ConfigDict(extra="allow", frozen=True)


SPEC = BackendSpec(
    name="scripted",
    label="Scripted",
    group="chat",
    family="chat",
    provider=ScriptedProvider,
    options=ScriptedOptions,
    needs_url=False,
)
