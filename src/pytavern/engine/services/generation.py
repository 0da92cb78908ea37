"""Generation: run a turn and stream its events; count tokens with a connection's tokenizer."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from pytavern import errors
from pytavern.engine.group_cards import GroupSpeaker
from pytavern.engine.prompting import pick_tokenizer
from pytavern.engine.services._base import Service
from pytavern.engine.turn_loader import GenerationMode
from pytavern.events import Accumulator, ErrorEvent, Finished, StreamEvent
from pytavern.prompt.tokens import CharRatioTokenizer, Tokenizer
from pytavern.types import Usage

ESTIMATE_CHARS_PER_TOKEN = 3.35
"""The estimate's ratio when a connection's tokenizer cannot be had."""


@dataclass
class TurnResult:
    """What one turn produced, gathered from its events."""

    chat_id: int
    accumulator: Accumulator = field(default_factory=Accumulator)
    error: ErrorEvent | None = None
    finished: Finished | None = None

    def feed(self, event: StreamEvent) -> None:
        """Take one event of the turn into account."""
        self.accumulator.feed(event)
        if isinstance(event, ErrorEvent):
            self.error = event
        elif isinstance(event, Finished):
            self.finished = event

    @property
    def reply(self) -> str:
        """The reply as saved (cleaned of stop strings and a leading name), else as streamed."""
        saved = self.finished.extra.get("reply") if self.finished else None
        return saved if isinstance(saved, str) else self.accumulator.text

    @property
    def summary_due(self) -> bool:
        """Whether the chat is due a new summary (the summary settings' ``every``)."""
        return bool(self.finished and self.finished.extra.get("summary_due"))

    @property
    def finish_reason(self) -> str:
        """Why the reply ended (``stop``, ``length``, ``cancelled``, ``error``...)."""
        return self.finished.reason if self.finished else "error"

    @property
    def usage(self) -> Usage:
        """The token usage the backend reported."""
        return self.accumulator.result().usage

    @property
    def model(self) -> str | None:
        """The model that answered."""
        return self.accumulator.result().model

    @property
    def connection(self) -> str | None:
        """The connection that answered (a fallback's when the turn's own failed)."""
        answered = self.finished.extra.get("connection") if self.finished else None
        return answered if isinstance(answered, str) else None

    @property
    def details(self) -> dict[str, Any]:
        """What the backend told about its answer besides the text (Perplexity's
        ``citations`` and ``search_results``, the AI Horde's ``worker``); often empty."""
        details = self.finished.extra.get("details") if self.finished else None
        return dict(details) if isinstance(details, dict) else {}

    @property
    def message_id(self) -> int | None:
        """The id of the message the reply was saved in (None when nothing was saved)."""
        saved = self.finished.extra.get("message_id") if self.finished else None
        return saved if isinstance(saved, int) else None

    def raise_error(self) -> None:
        """Raise the turn's error as the error it was (``PytavernError`` when unknown)."""
        if self.error is not None:
            raise error_from_event(self.error)


def error_from_event(event: ErrorEvent) -> errors.PytavernError:
    """The error of pytavern's tree that an ``ErrorEvent`` reports (same class, message
    and hint; a class we do not know becomes ``PytavernError``)."""
    found = getattr(errors, event.kind, None)
    error_class = (
        found
        if isinstance(found, type) and issubclass(found, errors.PytavernError)
        else errors.PytavernError
    )
    if issubclass(error_class, errors.ProviderError):
        provider, _sep, message = event.message.partition(": ")
        if not message:
            provider, message = "backend", event.message
        return error_class(message, provider=provider, hint=event.hint)
    return error_class(event.message, hint=event.hint)


@dataclass(frozen=True, slots=True)
class TokenCount:
    """How many tokens a text takes, and how it was counted."""

    tokens: int
    method: str


class GenerationService(Service):
    """Turns of a chat, and token counts."""

    async def stream(
        self,
        chat_id: int,
        mode: GenerationMode = "send",
        text: str | None = None,
        *,
        connection: str | None = None,
        speaker: GroupSpeaker | None = None,
    ) -> AsyncGenerator[StreamEvent]:
        """Run one turn of ``chat_id`` and yield its events (see ``Engine.generate``)."""
        events: AsyncGenerator[StreamEvent] = self._engine.generate(  # type: ignore[assignment]
            chat_id, mode, text, connection=connection, speaker=speaker
        )
        async with aclosing(events) as stream:
            async for event in stream:
                yield event

    async def run(
        self,
        chat_id: int,
        mode: GenerationMode = "send",
        text: str | None = None,
        *,
        connection: str | None = None,
        speaker: GroupSpeaker | None = None,
    ) -> TurnResult:
        """Run one turn to its end and return what it produced."""
        result = TurnResult(chat_id)
        events_of_turn = self.stream(chat_id, mode, text, connection=connection, speaker=speaker)
        async with aclosing(events_of_turn) as events:
            async for event in events:
                result.feed(event)
        return result

    async def count_tokens(self, text: str, connection: str | None = None) -> TokenCount:
        """How many tokens ``text`` takes with the connection's tokenizer (an estimate when
        the connection cannot be reached or configured)."""
        tokenizer: Tokenizer
        try:
            record, provider = await self._engine.provider(connection)
            tokenizer = pick_tokenizer(record, provider)
        except Exception:
            tokenizer = CharRatioTokenizer(ESTIMATE_CHARS_PER_TOKEN)
        return TokenCount(tokenizer.count(text), type(tokenizer).__name__)
