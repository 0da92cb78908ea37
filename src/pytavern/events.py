"""The stream event union: the one dialect every face sees, whatever the backend.

Providers yield ``TextDelta``, ``ReasoningDelta``, ``StatusEvent``, ``UsageEvent`` and exactly
one ``Finished``; they *raise* ``ProviderError`` on failure. The engine turns a raised error
into an ``ErrorEvent`` followed by ``Finished(reason="error")`` for the faces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, assert_never

from pytavern.types import Completion, FinishReason, Usage


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply's text."""

    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning ("thinking"), shown apart from the reply."""

    text: str
    type: Literal["reasoning"] = "reasoning"


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """Progress that is not text: waiting in a queue, loading a model, retrying."""

    message: str
    queue_position: int | None = None
    wait_seconds: float | None = None
    type: Literal["status"] = "status"
    speaker: str | None = None
    """In a group turn: the member whose events follow."""
    after_id: int | None = None
    """In a group turn: the id of the message that member's reply follows (the newest, or
    the one before it for a swipe or regenerate; 0: none). The stored replies after it are
    this turn's: a face showing the events in place of them drops them."""
    prefix: str | None = None
    """In a group turn's ``continue``: the text of the reply it extends as it was before
    (``after_id`` is then the message before that reply): the member's text follows it."""


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """Token usage reported by the backend."""

    usage: Usage
    type: Literal["usage"] = "usage"


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """An error that ended the stream; ``message`` and ``hint`` are for a person."""

    message: str
    kind: str = "PytavernError"
    hint: str | None = None
    retryable: bool = False
    type: Literal["error"] = "error"


@dataclass(frozen=True, slots=True)
class Finished:
    """The end of a stream, with the reason."""

    reason: FinishReason
    model: str | None = None
    type: Literal["finished"] = "finished"
    extra: dict[str, object] = field(default_factory=dict)


StreamEvent = TextDelta | ReasoningDelta | StatusEvent | UsageEvent | ErrorEvent | Finished
"""Everything a stream can carry."""


def event_to_dict(event: StreamEvent) -> dict[str, object]:
    """Return ``event`` as a JSON-ready mapping with a ``type`` discriminator."""
    match event:
        case TextDelta(text=text) | ReasoningDelta(text=text):
            return {"type": event.type, "text": text}
        case StatusEvent():
            status: dict[str, object] = {
                "type": "status",
                "message": event.message,
                "queue_position": event.queue_position,
                "wait_seconds": event.wait_seconds,
            }
            if event.speaker is not None:
                status["speaker"] = event.speaker
            if event.after_id is not None:
                status["after_id"] = event.after_id
            if event.prefix is not None:
                status["prefix"] = event.prefix
            return status
        case UsageEvent(usage=usage):
            return {"type": "usage", **usage.to_dict()}
        case ErrorEvent():
            return {
                "type": "error",
                "message": event.message,
                "kind": event.kind,
                "hint": event.hint,
                "retryable": event.retryable,
            }
        case Finished():
            done: dict[str, object] = {
                "type": "finished",
                "reason": event.reason,
                "model": event.model,
            }
            if details := event.extra.get("details"):
                done["details"] = details  # what the backend told besides the text
            if (saved := event.extra.get("summary_saved")) is not None:
                done["summary_saved"] = saved  # a summarize turn: kept, and its text
                done["reply"] = event.extra.get("reply", "")
            if event.extra.get("summary_due"):
                done["summary_due"] = True  # the chat is due a new summary (Settings)
            return done
        case _:
            assert_never(event)


def merge_deltas(events: list[StreamEvent]) -> list[StreamEvent]:
    """``events`` with each run of adjacent text (or reasoning) deltas joined into one.

    For what a fast upstream sent in one read: the faces see the same text in fewer
    events, and every layer between pays once per read instead of once per token.
    """
    if len(events) < 2:
        return events
    merged: list[StreamEvent] = []
    run: list[str] = []
    run_kind: type[TextDelta | ReasoningDelta] = TextDelta
    for event in events:
        if run and type(event) is not run_kind:
            merged.append(run_kind("".join(run)))
            run = []
        if isinstance(event, TextDelta | ReasoningDelta):
            run.append(event.text)
            run_kind = type(event)
        else:
            merged.append(event)
    if run:
        merged.append(run_kind("".join(run)))
    return merged


class Accumulator:
    """Folds a stream of events into a ``Completion``."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self.usage = Usage()
        self.finish_reason: FinishReason | None = None
        self.model: str | None = None
        self.error: ErrorEvent | None = None

    def feed(self, event: StreamEvent) -> None:
        """Take one event into account."""
        match event:
            case TextDelta(text=text):
                self._text.append(text)
            case ReasoningDelta(text=text):
                self._reasoning.append(text)
            case UsageEvent(usage=usage):
                self.usage = _merge_usage(self.usage, usage)
            case ErrorEvent():
                self.error = event
            case Finished(reason=reason, model=model):
                self.finish_reason = reason
                self.model = model or self.model
            case StatusEvent():
                pass
            case _:
                assert_never(event)

    @property
    def text(self) -> str:
        """The reply text so far."""
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        """The reasoning text so far."""
        return "".join(self._reasoning)

    def result(self) -> Completion:
        """Return what has been accumulated as a ``Completion``."""
        return Completion(
            text=self.text,
            finish_reason=self.finish_reason or "error",
            reasoning=self.reasoning,
            usage=self.usage,
            model=self.model,
        )


def _merge_usage(old: Usage, new: Usage) -> Usage:
    return Usage(
        input_tokens=new.input_tokens if new.input_tokens is not None else old.input_tokens,
        output_tokens=new.output_tokens if new.output_tokens is not None else old.output_tokens,
        cached_tokens=new.cached_tokens if new.cached_tokens is not None else old.cached_tokens,
        cache_write_tokens=old.cache_write_tokens
        if new.cache_write_tokens is None
        else new.cache_write_tokens,
        reasoning_tokens=old.reasoning_tokens
        if new.reasoning_tokens is None
        else new.reasoning_tokens,
    )
