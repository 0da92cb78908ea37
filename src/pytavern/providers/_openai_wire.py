"""OpenAI Chat Completions wire format: pure request building and answer parsing.

Used for ``openai``, ``custom`` and every OpenAI-compatible flavour (``openrouter``...);
the flavours differ only in samplers, quirks and a few headers and body fields, given by
``Flavour``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any
from urllib.parse import urlsplit

import orjson

from pytavern.errors import (
    GenerationFailedError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamServerError,
)
from pytavern.events import Finished, ReasoningDelta, StreamEvent, TextDelta, UsageEvent
from pytavern.providers._chunk_shape import ChunkShape, learn_shape
from pytavern.providers.base import ConnectionConfig
from pytavern.types import FinishReason, GenerationRequest, ModelInfo, Usage

_NAME = attrgetter("name")
_REASONING_MODEL = re.compile(r"^(?:[\w.-]+/)?(?:o\d|gpt-5)(?:[-.:]|$)")

FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "stop",
    "function_call": "stop",
    "eos": "stop",
    "model_length": "length",  # Workers AI: the model's context is full
}
FAILED_FINISH = frozenset({"error", "abort"})
"""``finish_reason`` values of a reply the server cut with an error (OpenRouter's
``error``, vLLM's ``abort``): what arrived is not the whole reply."""

OPENAI_SAMPLERS = frozenset(
    {"temperature", "top_p", "frequency_penalty", "presence_penalty", "max_tokens"}
    | {"stop", "seed"}
)
REASONING_SAMPLERS = frozenset({"max_tokens", "seed"})
"""o-series and gpt-5 models refuse temperature, top_p, penalties and stop."""


BodyHook = Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]]
"""Finishes a request body from the connection's options (returns the body to send)."""
HeaderHook = Callable[[ConnectionConfig], dict[str, str]]
"""Extra request headers for a connection (from its options)."""
ErrorHook = Callable[[ProviderError, int, Any], ProviderError]
"""Refines an HTTP error (status, decoded body) with the service's own advice."""
AnswerErrorHook = Callable[[str, dict[str, Any]], ProviderError | None]
"""(provider, a JSON object that came with status 200) -> the service's own error that
object carries, or ``None`` when it carries none."""


@dataclass(frozen=True, slots=True)
class Flavour:
    """What differs between OpenAI-style APIs: samplers taken, quirks and hooks.

    ``stop_limit`` cuts the stop list (OpenAI takes 4); ``reasoning_rules`` applies
    OpenAI's o-series / gpt-5 rules (``max_completion_tokens``, no temperature);
    ``probe_by_generating`` checks a server without ``GET /models`` with a 1-token reply;
    ``headers`` and ``body`` add the flavour's own headers and body fields;
    ``refine_error`` adds the service's advice to an HTTP error (its key page...);
    ``answer_error`` reads the service's own error shape where it comes with status 200,
    as a whole answer or inside the stream (Cloudflare's envelope, Chutes' string error),
    before OpenAI's ``{"error": ...}`` is looked for; ``kept_fields`` names top-level
    answer fields (Perplexity's ``citations``) kept in ``Finished.extra``.
    """

    name: str
    samplers: frozenset[str] = OPENAI_SAMPLERS
    stop_limit: int | None = None
    reasoning_rules: bool = False
    probe_by_generating: bool = False
    headers: HeaderHook | None = None
    body: BodyHook | None = None
    refine_error: ErrorHook | None = None
    answer_error: AnswerErrorHook | None = None
    kept_fields: frozenset[str] | None = None


def apply_custom_body(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Merge option ``extra_body`` into ``body`` and drop the keys in ``exclude_body``."""
    result = {**body, **dict(options.get("extra_body") or {})}
    for key in options.get("exclude_body") or ():
        result.pop(key, None)
    return result


def custom_headers(config: ConnectionConfig) -> dict[str, str]:
    """The headers of the connection's option ``extra_headers``."""
    extra = config.options.get("extra_headers") or {}
    return {str(k): str(v) for k, v in dict(extra).items()}


EXTENDED_SAMPLERS = OPENAI_SAMPLERS | {"top_k", "min_p", "top_a", "repetition_penalty"}
"""What OpenAI-compatible servers and routers commonly take beyond OpenAI's own."""

OPENAI = Flavour("openai", stop_limit=4, reasoning_rules=True)
CUSTOM = Flavour(
    "custom",
    EXTENDED_SAMPLERS,
    probe_by_generating=True,
    headers=custom_headers,
    body=apply_custom_body,
)


def is_reasoning_model(model: str) -> bool:
    """True for o1/o3/o4/gpt-5-style models (``max_completion_tokens``, no temperature)."""
    return bool(_REASONING_MODEL.match(model.lower()))


def supported_samplers(flavour: Flavour, model: str | None) -> frozenset[str]:
    """The sampler fields sent for ``model`` on this flavour."""
    if model and flavour.reasoning_rules and is_reasoning_model(model):
        return REASONING_SAMPLERS
    return flavour.samplers


def build_messages(request: GenerationRequest) -> list[dict[str, Any]]:
    """The ``messages`` array; a prefill becomes a final assistant message."""
    messages: list[dict[str, Any]] = [
        {"role": message.role, "content": message.content} for message in request.messages
    ]
    if any(map(_NAME, request.messages)):  # most prompts name no one: one pass in C
        for item, message in zip(messages, request.messages, strict=True):
            if message.name:
                item["name"] = message.name
    if request.prefill:
        messages.append({"role": "assistant", "content": request.prefill.rstrip()})
    return messages


def build_body(
    request: GenerationRequest,
    model: str,
    flavour: Flavour,
    options: Mapping[str, Any],
    *,
    stream: bool,
) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions`` for ``request``."""
    body: dict[str, Any] = {"model": model, "messages": build_messages(request), "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    body.update(_sampler_fields(request, model, flavour))
    return flavour.body(body, options) if flavour.body else body


def _sampler_fields(request: GenerationRequest, model: str, flavour: Flavour) -> dict[str, Any]:
    allowed = supported_samplers(flavour, model)
    fields: dict[str, Any] = {
        k: v for k, v in request.sampling.set_fields().items() if k in allowed
    }
    if "stop" in fields:
        fields["stop"] = list(fields["stop"])[: flavour.stop_limit]
        if not fields["stop"]:
            del fields["stop"]
    if flavour.reasoning_rules and is_reasoning_model(model) and "max_tokens" in fields:
        fields["max_completion_tokens"] = fields.pop("max_tokens")
    return fields


def finish_reason(value: str | None) -> FinishReason:
    """Map an OpenAI ``finish_reason`` onto ours."""
    return FINISH_REASONS.get(value or "stop", "stop")


def usage_from(data: Any) -> Usage | None:
    """Read ``usage`` (prompt/completion tokens) from a chunk or reply."""
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens_details")
    completion = usage.get("completion_tokens_details")
    cached = prompt.get("cached_tokens") if isinstance(prompt, dict) else None
    if cached is None:
        cached = usage.get("prompt_cache_hit_tokens")  # DeepSeek
    reasoning = completion.get("reasoning_tokens") if isinstance(completion, dict) else None
    return Usage(
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        cached_tokens=cached if isinstance(cached, int) else None,
        reasoning_tokens=reasoning if isinstance(reasoning, int) else None,
    )


def stream_error(provider: str, error: Any) -> ProviderError:
    """The error for an ``{"error": ...}`` object found inside a stream or a 200 answer."""
    error = error if isinstance(error, dict) else {"message": str(error)}
    message = str(error.get("message") or "unknown error")
    code = str(error.get("code") or error.get("type") or "")
    said = f"the backend reported an error mid-reply: {message}"
    if code in ("429", "rate_limit_exceeded") or "rate" in code:
        return RateLimitError(said, provider=provider, hint="Wait a moment and try again")
    if code.startswith("5") or code in ("server_error", "overloaded"):
        return UpstreamServerError(said, provider=provider, hint="Try again in a moment")
    return GenerationFailedError(
        said, provider=provider, hint="What arrived was kept; try again or change the prompt"
    )


class StreamParser:
    """Turns the ``data`` payloads of a Chat Completions stream into our events;
    ``answer_error`` is the flavour's reader of its own error shape (``Flavour``)."""

    def __init__(
        self,
        provider: str,
        kept_fields: frozenset[str] | None = None,
        answer_error: AnswerErrorHook | None = None,
    ) -> None:
        self.provider = provider
        self.kept_fields = kept_fields or frozenset()
        self.answer_error = answer_error
        self.extra: dict[str, object] = {}
        self.reason: str | None = None
        self.usage: Usage | None = None
        self.model: str | None = None
        self.done = False
        self._shape: ChunkShape | None = None
        self._shape_tries = 0
        self._shaped = 0
        """Chunks read by their shape; with ``_shape_tries``, how often to learn one."""

    def feed(self, data: Any) -> list[StreamEvent]:
        """Take one parsed chunk (``[DONE]`` is handled by ``end``)."""
        if not isinstance(data, dict):
            raise StreamProtocolError(
                "the stream carried a chunk that is not an object", provider=self.provider
            )
        failure = self.error_of(data)
        if failure is not None:
            raise failure
        model = data.get("model")
        if model:
            self.model = model
        if "usage" in data:  # most chunks carry none (usage_from would say None)
            self.usage = usage_from(data) or self.usage
        if self.kept_fields:
            self.extra.update((k, data[k]) for k in self.kept_fields if data.get(k))
        events: list[StreamEvent] = []
        for choice in self._choices(data):
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            if not isinstance(delta, dict):
                raise self._malformed("a choice's delta that is not an object")
            _add_delta_events(delta, events)
            reason = choice.get("finish_reason")
            if reason:
                self.reason = reason
        return events

    def error_of(self, data: Any) -> ProviderError | None:
        """The error a chunk or answer carries: the flavour's own shape, else OpenAI's
        ``{"error": ...}``; ``None`` when it carries none."""
        if not isinstance(data, dict):
            return None
        if self.answer_error is not None:
            failure = self.answer_error(self.provider, data)
            if failure is not None:
                return failure
        return stream_error(self.provider, data["error"]) if data.get("error") else None

    def _choices(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunk's ``choices`` (none when absent); a malformed list is refused."""
        choices = data.get("choices") or []
        if not isinstance(choices, list):
            raise self._malformed("'choices' that is not a list")
        if not all(isinstance(choice, dict) for choice in choices):
            raise self._malformed("a choice that is not an object")
        return choices

    def _malformed(self, what: str) -> StreamProtocolError:
        return StreamProtocolError(
            f"the stream carried {what}",
            provider=self.provider,
            hint="The server does not speak this API correctly; check the URL and API type",
        )

    def take(self, data: Any) -> list[StreamEvent] | str:
        """``feed``, but the usual chunk, which carries only text, gives that text as a
        ``str`` (see ``_chat.SSEParser``): no event is built for it."""
        text = None if self.kept_fields else self._plain_text(data)
        return self.feed(data) if text is None else text

    def plain_texts(self, payloads: list[str], start: int, texts: list[str]) -> int:
        """The fast path of ``take`` over the payloads of a read (``_chat.PlainTexts``):
        adds the text of each payload from ``start`` on that is a chunk ``take`` gives as
        a ``str`` to ``texts``; returns the index of the first that is not (not JSON,
        ``[DONE]``, any other chunk), or ``len(payloads)``. A chunk of the last such
        chunk's shape (``ChunkShape``) is read by its text alone."""
        if self.kept_fields:
            return start
        index, count = start, len(payloads)
        while index < count:
            shape = self._shape
            if shape is not None:
                shaped = shape.read_run(payloads, index, texts)
                if shaped > index:  # the notes ``_plain_text`` takes of such chunks
                    self._shaped += shaped - index
                    self.model = shape.model or self.model
                    self.reason = shape.reason or self.reason
                    index = shaped
                    continue
            try:
                data = orjson.loads(payloads[index])
            except ValueError:
                return index
            text = self._plain_text(data)
            if text is None:
                return index
            if text:
                texts.append(text)
            self._learn_shape(payloads[index], data, text)
            index += 1
        return count

    def _learn_shape(self, payload: str, data: Any, text: str) -> None:
        """The shape of a chunk ``_plain_text`` read as ``text``, kept for the next ones;
        tried on the first chunks, then once per 32 chunks read by a shape (a server whose
        chunks all differ pays for a few tries only)."""
        if self._shape_tries >= 3 and self._shaped < 32 * self._shape_tries:
            return
        self._shape_tries += 1
        self._shape = learn_shape(payload, data, text, self._plain_text) or self._shape

    def _plain_text(self, data: Any) -> str | None:
        """The text of a chunk whose one choice (index 0) has a delta without reasoning,
        ``""`` when that delta has no text (a role, or nothing with a ``finish_reason``),
        and that carries nothing else ``feed`` reads but ``model`` and ``finish_reason``
        (taken here, as ``feed`` takes them; a ``null`` usage and a false error, which
        ``feed`` passes over, are passed over); ``None`` for any other chunk. For a parser
        without ``kept_fields``."""
        try:  # the usual chunk's shape; any other raises one of these
            choices = data["choices"]
            choice = choices[0]
            delta = choice["delta"]
        except (KeyError, IndexError, TypeError):
            return None
        if type(delta) is not dict or len(choices) != 1 or choice.get("index", 0) != 0:
            return None
        if not delta and "message" in choice:  # ``feed`` reads the message instead
            return None
        text = _delta_text(delta)
        if text is None or data.get("usage") is not None or data.get("error"):
            return None
        model = data.get("model")
        if model:
            self.model = model
        reason = choice.get("finish_reason")
        if reason:
            self.reason = reason
        return text

    def end(self, *, done: bool) -> list[StreamEvent]:
        """Finish the stream: ``done`` says whether ``[DONE]`` arrived."""
        if not done and self.reason is None:
            raise StreamInterruptedError(
                "the stream ended before the reply was finished",
                provider=self.provider,
                hint="What arrived was kept; continue or regenerate the reply",
            )
        events: list[StreamEvent] = []
        if self.usage is not None:
            events.append(UsageEvent(self.usage))
        events.append(Finished(finish_reason(self.reason), model=self.model, extra=self.extra))
        return events


def _delta_text(delta: dict[str, Any]) -> str | None:
    """The text of a delta that holds no reasoning (``""`` when it holds no text either),
    or ``None`` when it holds reasoning or a ``content`` that is not text."""
    text = delta.get("content")
    # A delta of text alone holds no reasoning: its two lookups are saved.
    maybe_reasoning = len(delta) > 1 or text is None
    if maybe_reasoning and (delta.get("reasoning_content") or delta.get("reasoning")):
        return None
    if text is None:
        return ""
    return text if type(text) is str else None


def _add_delta_events(delta: Mapping[str, Any], events: list[StreamEvent]) -> None:
    """Add the reasoning and text of one choice's ``delta`` to ``events``."""
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        events.append(ReasoningDelta(reasoning))
    content = delta.get("content")
    if isinstance(content, str) and content:
        events.append(TextDelta(content))


def parse_reply(
    provider: str,
    data: Any,
    kept_fields: frozenset[str] | None = None,
    answer_error: AnswerErrorHook | None = None,
) -> list[StreamEvent]:
    """Turn a non-streamed Chat Completions reply into events; an answer that carries an
    error (``StreamParser.error_of``) raises it."""
    parser = StreamParser(provider, kept_fields, answer_error)
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        failure = parser.error_of(data)
        if failure is not None:
            raise failure
        raise StreamProtocolError(
            "the answer has no 'choices'",
            provider=provider,
            hint="Check that the URL points at an OpenAI-compatible API",
        )
    events = parser.feed(data)
    if parser.reason is None:
        parser.reason = "stop"
    return events + parser.end(done=True)


def parse_models(data: Any) -> list[ModelInfo]:
    """Read ``GET /models`` (``{"data": [{"id": ...}]}``; OpenRouter adds context_length)."""
    items = data.get("data") if isinstance(data, dict) else data
    models: list[ModelInfo] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("id"):
            length = item.get("context_length")
            models.append(
                ModelInfo(
                    id=str(item["id"]),
                    name=item.get("name"),
                    context_length=length if isinstance(length, int) else None,
                )
            )
    return models


def normalize_openai_url(url: str) -> str:
    """The base URL from what the user gave (rule documented in ``openai_compat``)."""
    base = url.strip().rstrip("/")
    for suffix in ("/chat/completions", "/completions", "/models"):
        if base.endswith(suffix):
            base = base[: -len(suffix)].rstrip("/")
    base = base.replace("://localhost", "://127.0.0.1")
    try:
        path = urlsplit(base).path
    except ValueError:
        return base
    return f"{base}/v1" if path in ("", "/") else base
