"""Cohere Chat API v2 wire format: pure request building and answer parsing.

``POST /v2/chat`` takes ``messages`` (roles system/user/assistant) and Cohere's own sampler
names (``p``, ``k``, ``stop_sequences``); a stream is SSE whose JSON payloads carry a
``type``: ``message-start``, ``content-start``, ``content-delta``, ``content-end`` and
``message-end`` (``finish_reason`` and ``usage``). Errors are ``{"message": "..."}``.
"""

from __future__ import annotations

from typing import Any

from pytavern.errors import (
    GenerationFailedError,
    ProviderError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamTimeoutError,
)
from pytavern.events import Finished, ReasoningDelta, StreamEvent, TextDelta, UsageEvent
from pytavern.providers._chat import named
from pytavern.types import FinishReason, GenerationRequest, ModelInfo, Usage

KEY_PAGE = "https://dashboard.cohere.com/api-keys"
SAMPLERS = frozenset(
    {"max_tokens", "temperature", "top_p", "top_k", "stop", "seed"}
    | {"frequency_penalty", "presence_penalty"}
)
STOP_LIMIT = 5
P_RANGE = (0.01, 0.99)
K_MAX = 500
FINISH: dict[str, FinishReason] = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "stop",
}


def build_messages(request: GenerationRequest) -> list[dict[str, str]]:
    """The ``messages`` array (names folded into the text; a prefill as a last assistant turn)."""
    messages = [{"role": m.role, "content": named(m)} for m in request.messages]
    if request.prefill and request.prefill.rstrip():
        messages.append({"role": "assistant", "content": request.prefill.rstrip()})
    return messages


def sampler_fields(request: GenerationRequest) -> dict[str, Any]:
    """Cohere's sampler fields: ``p`` kept in 0.01..0.99, ``k`` in 0..500, 5 stop sequences."""
    s = request.sampling
    fields: dict[str, Any] = {}
    for ours, theirs in (
        ("max_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("seed", "seed"),
        ("frequency_penalty", "frequency_penalty"),
        ("presence_penalty", "presence_penalty"),
    ):
        value = getattr(s, ours)
        if value is not None:
            fields[theirs] = value
    if s.top_p is not None:
        fields["p"] = min(max(s.top_p, P_RANGE[0]), P_RANGE[1])
    if s.top_k is not None:
        fields["k"] = min(max(s.top_k, 0), K_MAX)
    if s.stop:
        fields["stop_sequences"] = list(s.stop)[:STOP_LIMIT]
    return fields


def build_body(request: GenerationRequest, model: str, *, stream: bool) -> dict[str, Any]:
    """The JSON body of ``POST /v2/chat``."""
    body: dict[str, Any] = {
        "model": model,
        "messages": build_messages(request),
        "stream": stream,
    }
    body.update(sampler_fields(request))
    return body


def usage_from(data: Any) -> Usage | None:
    """``usage.tokens`` (or ``billed_units``) as our ``Usage``."""
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return None
    counts = usage.get("tokens") or usage.get("billed_units")
    if not isinstance(counts, dict):
        return None
    return Usage(_int(counts.get("input_tokens")), _int(counts.get("output_tokens")))


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _content_events(content: Any) -> list[StreamEvent]:
    """Text and thinking of one content item (a delta or a reply's content entry)."""
    if not isinstance(content, dict):
        return []
    events: list[StreamEvent] = []
    thinking = content.get("thinking")
    if isinstance(thinking, str) and thinking:
        events.append(ReasoningDelta(thinking))
    text = content.get("text")
    if isinstance(text, str) and text:
        events.append(TextDelta(text))
    return events


def _finish(provider: str, reason: str | None, error: Any = None) -> FinishReason:
    """Our finish reason; ``ERROR`` and ``TIMEOUT`` raise (what arrived is kept)."""
    if reason == "TIMEOUT":
        raise UpstreamTimeoutError(
            "Cohere timed out generating the reply",
            provider=provider,
            hint="What arrived was kept; try again or ask for a shorter reply",
        )
    if reason == "ERROR" or error:
        said = f": {error}" if isinstance(error, str) and error else ""
        raise GenerationFailedError(
            f"Cohere reported an error mid-reply{said}",
            provider=provider,
            hint="What arrived was kept; try again or change the prompt",
        )
    return FINISH.get(reason or "COMPLETE", "stop")


class StreamParser:
    """Turns the JSON payloads of a ``/v2/chat`` stream into our events."""

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.ended = False
        self.usage: Usage | None = None
        self.reason: FinishReason = "stop"

    def feed(self, data: Any) -> list[StreamEvent]:
        """Take one event payload; ``message-end`` ends the stream."""
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise StreamProtocolError(
                "the stream carried an event without a type", provider=self.provider
            )
        delta: dict[str, Any] = data["delta"] if isinstance(data.get("delta"), dict) else {}
        if data["type"] == "content-delta":
            return _content_events((delta.get("message") or {}).get("content"))
        if data["type"] == "message-end":
            self.ended = True
            self.usage = usage_from(delta)
            self.reason = _finish(self.provider, delta.get("finish_reason"), delta.get("error"))
        return []

    def end(self) -> list[StreamEvent]:
        """Close the stream; raise when ``message-end`` never came."""
        if not self.ended:
            raise StreamInterruptedError(
                "the stream ended before Cohere finished the reply",
                provider=self.provider,
                hint="What arrived was kept; continue or regenerate the reply",
            )
        events: list[StreamEvent] = [UsageEvent(self.usage)] if self.usage else []
        return [*events, Finished(self.reason, model=self.model)]


def parse_reply(provider: str, model: str, data: Any) -> list[StreamEvent]:
    """Turn a non-streamed ``/v2/chat`` reply into events."""
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, dict):
        raise StreamProtocolError(
            "the answer has no 'message'",
            provider=provider,
            hint="Check that the URL points at Cohere's API (https://api.cohere.com)",
        )
    events: list[StreamEvent] = []
    for content in message.get("content") or []:
        events.extend(_content_events(content))
    reason = _finish(provider, data.get("finish_reason"))
    usage = usage_from(data)
    return [*events, *([UsageEvent(usage)] if usage else []), Finished(reason, model=model)]


def parse_models(data: Any) -> list[ModelInfo]:
    """Read ``GET /v1/models`` (``{"models": [{"name", "endpoints", "context_length"}]}``),
    keeping the models that serve ``chat``."""
    items = data.get("models") if isinstance(data, dict) else None
    models: list[ModelInfo] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        if "chat" not in (item.get("endpoints") or ["chat"]):
            continue
        length = item.get("context_length")
        models.append(
            ModelInfo(id=str(item["name"]), context_length=_int(length) if length else None)
        )
    return models


ADVICE: dict[int, str] = {
    401: f"Create or copy a key at {KEY_PAGE}, then store it with "
    "`pytavern connections add NAME --api cohere --key -` (or set CO_API_KEY)",
    402: "Add a payment method at https://dashboard.cohere.com/billing, or use a trial key",
    404: "List the chat models with `pytavern connections models NAME` and set one with "
    "--model (e.g. command-a-03-2025)",
    429: f"Trial keys allow few calls a minute: wait, or use a production key from {KEY_PAGE}",
}
"""What to do about each error status Cohere documents."""


def refine(error: ProviderError, status: int) -> ProviderError:
    """``error`` with Cohere's advice for its status as the hint (the body's ``message`` is
    already in the error's text)."""
    if status in ADVICE:
        error.hint = ADVICE[status]
    return error
