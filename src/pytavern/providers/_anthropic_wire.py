"""Anthropic Messages API wire format: pure request building and answer parsing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pytavern.errors import (
    AuthError,
    BadRequestError,
    GenerationFailedError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamNotFoundError,
    UpstreamServerError,
)
from pytavern.events import Finished, ReasoningDelta, StreamEvent, TextDelta, UsageEvent
from pytavern.providers._chat import merge_same_role, named, split_leading_system
from pytavern.types import FinishReason, GenerationRequest, ModelInfo, Usage

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024
PLACEHOLDER = "Let's get started."
SAMPLERS = frozenset({"max_tokens", "temperature", "top_p", "top_k", "stop"})
THINKING_SAMPLERS = frozenset({"max_tokens", "stop"})

STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "max_tokens": "length",
    "stop_sequence": "stop_sequence",
    "tool_use": "stop",
    "pause_turn": "stop",
    "refusal": "content_filter",
}


def thinking_budget(options: Mapping[str, Any]) -> int | None:
    """The extended-thinking budget from option ``thinking_budget`` (None when off)."""
    budget = options.get("thinking_budget")
    return int(budget) if budget else None


def build_messages(
    request: GenerationRequest, *, prefill_as_user: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(system, messages)`` in the shape Claude requires.

    Leading system messages become ``system``; later ones become user turns; names are
    prefixed; same-role turns are merged; the first turn is a user turn; a prefill is a
    final assistant turn with trailing whitespace trimmed (a user turn with
    ``prefill_as_user``, since extended thinking does not allow prefills).
    """
    system_texts, rest = split_leading_system(request.messages)
    pairs = [("assistant" if m.role == "assistant" else "user", named(m)) for m in rest]
    if not pairs or pairs[0][0] != "user":
        pairs.insert(0, ("user", PLACEHOLDER))
    if request.prefill and request.prefill.rstrip():
        pairs.append(("user" if prefill_as_user else "assistant", request.prefill.rstrip()))
    merged = merge_same_role(pairs)
    messages = [{"role": role, "content": text} for role, text in merged]
    return "\n\n".join(system_texts), messages


MAX_BREAKPOINTS = 4
"""The most ``cache_control`` blocks the Messages API takes in one request."""


def cache_settings(options: Mapping[str, Any]) -> tuple[int, str] | None:
    """``(depth, ttl)`` when option ``prompt_cache`` is on, else ``None``."""
    if not options.get("prompt_cache"):
        return None
    depth = options.get("cache_depth")
    ttl = options.get("cache_ttl")
    return (int(depth) if depth is not None else 2, ttl if ttl in ("5m", "1h") else "5m")


def cache_control(ttl: str) -> dict[str, str]:
    """A ``cache_control`` value (the 5-minute TTL is the default, so it is not written)."""
    return {"type": "ephemeral", "ttl": "1h"} if ttl == "1h" else {"type": "ephemeral"}


def breakpoint_index(message_count: int, depth: int) -> int | None:
    """The message that ends the cached history: ``depth`` messages before the last
    (``None`` when the conversation is not that long yet)."""
    index = message_count - 1 - depth
    return index if index >= 0 else None


def add_cache_breakpoints(body: dict[str, Any], depth: int, ttl: str) -> None:
    """Mark the stable prefix for Claude's prompt cache, in place: the system prompt
    (character card, World Info and the rest of what comes before the chat) and the
    history up to ``depth`` messages before the last, which later turns send unchanged."""
    control = cache_control(ttl)
    if body.get("system"):
        body["system"] = [{"type": "text", "text": body["system"], "cache_control": control}]
    index = breakpoint_index(len(body["messages"]), depth)
    if index is not None:
        message = body["messages"][index]
        blocks = _blocks(message["content"])
        blocks[-1] = {**blocks[-1], "cache_control": control}
        body["messages"][index] = {**message, "content": blocks}


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return [dict(block) for block in content]
    return [{"type": "text", "text": str(content)}]


def build_body(
    request: GenerationRequest, model: str, options: Mapping[str, Any], *, stream: bool
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/messages``."""
    budget = thinking_budget(options)
    system, messages = build_messages(request, prefill_as_user=budget is not None)
    sampling = request.sampling
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": sampling.max_tokens or DEFAULT_MAX_TOKENS,
        "stream": stream,
    }
    if system:
        body["system"] = system
    if sampling.stop:
        body["stop_sequences"] = list(sampling.stop)
    caching = cache_settings(options)
    if caching is not None:
        add_cache_breakpoints(body, *caching)
    if budget:
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
        body["max_tokens"] = max(body["max_tokens"], budget + 1024)
        return body
    for field in ("temperature", "top_p", "top_k"):
        value = getattr(sampling, field)
        if value is not None:
            body[field] = value
    if "temperature" in body and "top_p" in body and one_of_temperature_top_p(model):
        del body["top_p"]
    return body


_MODEL_VERSION = re.compile(r"claude-(opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?=[-@:]|$)")


def one_of_temperature_top_p(model: str) -> bool:
    """True for models that refuse ``temperature`` and ``top_p`` together (HTTP 400):
    Sonnet 4.5, Haiku 4.5, Opus 4.1 and every later Claude (Bedrock and Vertex ids too)."""
    match = _MODEL_VERSION.search(model.lower())
    if match is None:
        return False
    family, major, minor = match[1], int(match[2]), int(match[3] or 0)
    if major != 4:
        return major > 4
    return minor >= (1 if family == "opus" else 5)


def dropped_samplers(request: GenerationRequest, model: str) -> list[str]:
    """The set samplers ``build_body`` leaves out for ``model`` (``top_p`` when the model
    takes only one of temperature and top_p and both are set)."""
    sampling = request.sampling
    both = sampling.temperature is not None and sampling.top_p is not None
    return ["top_p"] if both and one_of_temperature_top_p(model) else []


def error_from_body(provider: str, error: Any, *, in_stream: bool) -> ProviderError:
    """Map Claude's ``{"type": ..., "message": ...}`` error object onto the error tree."""
    error = error if isinstance(error, dict) else {}
    kind = str(error.get("type") or "api_error")
    message = str(error.get("message") or kind)
    where = "mid-reply" if in_stream else ""
    said = f"Claude reported {kind} {where}: {message}".replace("  ", " ")
    if kind == "overloaded_error":
        return UpstreamServerError(
            said,
            provider=provider,
            status_code=None if in_stream else 529,
            hint="Anthropic's servers are overloaded; try again in a moment",
        )
    if kind == "rate_limit_error":
        return RateLimitError(said, provider=provider, hint="Wait a moment and try again")
    if kind == "api_error":
        return UpstreamServerError(said, provider=provider, hint="Try again in a moment")
    if kind in ("authentication_error", "permission_error"):
        return AuthError(said, provider=provider, hint="Check the Anthropic API key")
    if kind == "not_found_error":
        return UpstreamNotFoundError(said, provider=provider, hint="Check the model name")
    if in_stream:
        return GenerationFailedError(said, provider=provider, hint="Try again")
    return BadRequestError(said, provider=provider, hint="Check the model and sampler settings")


class StreamParser:
    """Turns Claude's stream events into ours; ``message_stop`` is the terminal event."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cache_read: int | None = None
        self.cache_write: int | None = None
        self.stop_reason: str | None = None
        self.model: str | None = None
        self.done = False

    def feed(self, event: str, data: Any) -> list[StreamEvent]:
        """Take one SSE event (its name and parsed data)."""
        if not isinstance(data, dict):
            raise StreamProtocolError(
                f"the stream carried a {event!r} event that is not an object",
                provider=self.provider,
            )
        kind = data.get("type", event)
        if kind == "error":
            raise error_from_body(self.provider, data.get("error"), in_stream=True)
        if kind == "message_start":
            message = data.get("message") or {}
            self.model = message.get("model")
            self._take_usage(message.get("usage"))
        elif kind == "content_block_delta":
            return _delta_events(data.get("delta") or {})
        elif kind == "content_block_start":
            return _block_start_events(data.get("content_block") or {})
        elif kind == "message_delta":
            self.stop_reason = (data.get("delta") or {}).get("stop_reason") or self.stop_reason
            self._take_usage(data.get("usage"))
        elif kind == "message_stop":
            self.done = True
        return []

    def _take_usage(self, usage: Any) -> None:
        if isinstance(usage, dict):
            self.input_tokens = usage.get("input_tokens", self.input_tokens)
            self.output_tokens = usage.get("output_tokens", self.output_tokens)
            self.cache_read = usage.get("cache_read_input_tokens", self.cache_read)
            self.cache_write = usage.get("cache_creation_input_tokens", self.cache_write)

    def end(self) -> list[StreamEvent]:
        """Close the stream; raise when ``message_stop`` never came."""
        if not self.done:
            raise StreamInterruptedError(
                "the stream ended before Claude finished the reply",
                provider=self.provider,
                hint="What arrived was kept; continue or regenerate the reply",
            )
        reason = STOP_REASONS.get(self.stop_reason or "end_turn", "stop")
        return [UsageEvent(self.usage()), Finished(reason, model=self.model)]

    def usage(self) -> Usage:
        """The usage so far; ``input_tokens`` counts the whole prompt (Claude reports the
        tokens read from and written to the cache apart from the rest)."""
        read, written = self.cache_read, self.cache_write
        if self.input_tokens is None or (read is None and written is None):
            return Usage(self.input_tokens, self.output_tokens)
        total = self.input_tokens + (read or 0) + (written or 0)
        return Usage(total, self.output_tokens, cached_tokens=read, cache_write_tokens=written)


def _delta_events(delta: Mapping[str, Any]) -> list[StreamEvent]:
    if delta.get("type") == "text_delta" and delta.get("text"):
        return [TextDelta(str(delta["text"]))]
    if delta.get("type") == "thinking_delta" and delta.get("thinking"):
        return [ReasoningDelta(str(delta["thinking"]))]
    return []


def _block_start_events(block: Mapping[str, Any]) -> list[StreamEvent]:
    if block.get("type") == "text" and block.get("text"):
        return [TextDelta(str(block["text"]))]
    if block.get("type") == "thinking" and block.get("thinking"):
        return [ReasoningDelta(str(block["thinking"]))]
    return []


def parse_reply(provider: str, data: Any) -> list[StreamEvent]:
    """Turn a non-streamed Messages reply into events."""
    if not isinstance(data, dict) or data.get("type") != "message":
        if isinstance(data, dict) and data.get("type") == "error":
            raise error_from_body(provider, data.get("error"), in_stream=False)
        raise StreamProtocolError(
            "the answer is not a Claude message",
            provider=provider,
            hint="Check that the URL points at the Anthropic API",
        )
    parser = StreamParser(provider)
    parser.feed("message_start", {"type": "message_start", "message": data})
    events: list[StreamEvent] = []
    for block in data.get("content") or []:
        events += _block_start_events(block)
    parser.feed("message_delta", {"type": "message_delta", "delta": data})
    parser.done = True
    return events + parser.end()


def parse_models(data: Any) -> list[ModelInfo]:
    """Read ``GET /v1/models``."""
    items = data.get("data") if isinstance(data, dict) else None
    return [
        ModelInfo(id=str(item["id"]), name=item.get("display_name"))
        for item in items or []
        if isinstance(item, dict) and item.get("id")
    ]
