"""Gemini API (Google AI Studio) wire format: pure request building and answer parsing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytavern.errors import (
    AuthError,
    ContentFilteredError,
    GenerationFailedError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamServerError,
)
from pytavern.events import Finished, ReasoningDelta, StreamEvent, TextDelta, UsageEvent
from pytavern.providers._chat import merge_same_role, named, split_leading_system
from pytavern.types import FinishReason, GenerationRequest, ModelInfo, Usage

SAFETY_CATEGORIES = (
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
)
DEFAULT_THRESHOLD = "OFF"
SAMPLERS = frozenset({"max_tokens", "temperature", "top_p", "top_k", "stop", "seed"})
BLOCKED_FINISH = frozenset(
    {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "RECITATION", "SPII", "IMAGE_SAFETY"}
)
FINISH: dict[str, FinishReason] = {"STOP": "stop", "MAX_TOKENS": "length"}
_FILTER_HINT = (
    "Rephrase the prompt, or loosen the filter with "
    '--option safety_threshold=\'"BLOCK_NONE"\' (the default is "OFF")'
)


def build_contents(request: GenerationRequest) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(system instruction, contents)``: roles user/model, same-role turns merged."""
    system_texts, rest = split_leading_system(request.messages)
    pairs = [("model" if m.role == "assistant" else "user", named(m)) for m in rest]
    if request.prefill and request.prefill.rstrip():
        pairs.append(("model", request.prefill.rstrip()))
    if not pairs:
        pairs.append(("user", "Let's get started."))
    contents = [{"role": r, "parts": [{"text": t}]} for r, t in merge_same_role(pairs)]
    return "\n\n".join(system_texts), contents


def safety_settings(options: Mapping[str, Any]) -> list[dict[str, str]]:
    """The five safety categories at option ``safety_threshold`` (default ``OFF``)."""
    threshold = str(options.get("safety_threshold") or DEFAULT_THRESHOLD)
    return [{"category": c, "threshold": threshold} for c in SAFETY_CATEGORIES]


def generation_config(request: GenerationRequest) -> dict[str, Any]:
    """``generationConfig`` from the sampler settings (stop sequences capped at 5)."""
    sampling = request.sampling
    config: dict[str, Any] = {"candidateCount": 1}
    names = {
        "max_tokens": "maxOutputTokens",
        "temperature": "temperature",
        "top_p": "topP",
        "top_k": "topK",
        "seed": "seed",
    }
    for ours, theirs in names.items():
        value = getattr(sampling, ours)
        if value is not None:
            config[theirs] = value
    if sampling.stop:
        config["stopSequences"] = list(sampling.stop)[:5]
    return config


def build_body(request: GenerationRequest, options: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of ``generateContent`` / ``streamGenerateContent``."""
    system, contents = build_contents(request)
    body: dict[str, Any] = {
        "contents": contents,
        "safetySettings": safety_settings(options),
        "generationConfig": generation_config(request),
    }
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    if options.get("include_thoughts"):
        body["generationConfig"]["thinkingConfig"] = {"includeThoughts": True}
    return body


def model_path(model: str, method: str) -> str:
    """``v1beta/models/{model}:{method}`` (a ``models/`` prefix on the name is accepted)."""
    from urllib.parse import quote

    name = model.removeprefix("models/")
    return f"v1beta/models/{quote(name, safe='.-_')}:{method}"


def refine(error: ProviderError, provider: str, body: Any) -> ProviderError:
    """Refine Google's ``{"error": {"code", "message", "status", "details"}}`` errors."""
    inner = body.get("error") if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        return error
    status = str(inner.get("status") or "")
    message = str(inner.get("message") or status)
    reasons = {d.get("reason") for d in inner.get("details") or [] if isinstance(d, dict)}
    if "API_KEY_INVALID" in reasons or status in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return AuthError(
            f"Gemini refused the key: {message}",
            provider=provider,
            status_code=error.status_code,
            hint="Check GEMINI_API_KEY, or store a key with "
            "`pytavern connections add NAME --api gemini --key -`",
        )
    if status == "RESOURCE_EXHAUSTED":
        return RateLimitError(
            f"Gemini quota or rate limit exhausted (RESOURCE_EXHAUSTED): {message}",
            provider=provider,
            retry_after=getattr(error, "retry_after", None),
            hint="Wait a minute and try again, or check the quota of this key in AI Studio",
        )
    return error


def _blocked(provider: str, what: str) -> ContentFilteredError:
    return ContentFilteredError(f"Gemini blocked {what}", provider=provider, hint=_FILTER_HINT)


class StreamParser:
    """Turns ``GenerateContentResponse`` chunks into events; a ``finishReason`` ends it."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.reason: str | None = None
        self.usage: Usage | None = None
        self.model: str | None = None

    def feed(self, data: Any) -> list[StreamEvent]:
        """Take one chunk; raise on an error, a block, or a safety stop."""
        if not isinstance(data, dict):
            raise StreamProtocolError("the stream carried a non-object", provider=self.provider)
        if isinstance(data.get("error"), dict):
            raise _stream_error(self.provider, data["error"])
        block = (data.get("promptFeedback") or {}).get("blockReason")
        if block:
            raise _blocked(self.provider, f"the prompt ({block})")
        self.model = data.get("modelVersion") or self.model
        self._take_usage(data.get("usageMetadata"))
        candidates = data.get("candidates") or []
        if not candidates:
            return []
        candidate = candidates[0]
        events = _part_events(candidate)
        reason = candidate.get("finishReason")
        if reason in BLOCKED_FINISH:
            raise _blocked(self.provider, f"the reply (finishReason {reason})")
        self.reason = reason or self.reason
        return events

    def _take_usage(self, meta: Any) -> None:
        if isinstance(meta, dict):
            out = meta.get("candidatesTokenCount")
            if out is not None and meta.get("thoughtsTokenCount"):
                out += meta["thoughtsTokenCount"]
            self.usage = Usage(
                meta.get("promptTokenCount"),
                out,
                cached_tokens=_count(meta.get("cachedContentTokenCount")),
                reasoning_tokens=_count(meta.get("thoughtsTokenCount")),
            )

    def end(self) -> list[StreamEvent]:
        """Close the stream; raise when no chunk carried a ``finishReason``."""
        if self.reason is None:
            raise StreamInterruptedError(
                "the stream ended before Gemini finished the reply",
                provider=self.provider,
                hint="What arrived was kept; continue or regenerate the reply",
            )
        events: list[StreamEvent] = [UsageEvent(self.usage)] if self.usage else []
        return [*events, Finished(FINISH.get(self.reason, "stop"), model=self.model)]


def _part_events(candidate: Mapping[str, Any]) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    for part in (candidate.get("content") or {}).get("parts") or []:
        text = part.get("text") if isinstance(part, dict) else None
        if isinstance(text, str) and text:
            events.append(ReasoningDelta(text) if part.get("thought") else TextDelta(text))
    return events


def _stream_error(provider: str, error: Mapping[str, Any]) -> ProviderError:
    message = f"Gemini reported an error mid-reply: {error.get('message') or error}"
    if str(error.get("code", "")).startswith("5") or error.get("status") == "UNAVAILABLE":
        return UpstreamServerError(message, provider=provider, hint="Try again in a moment")
    return GenerationFailedError(message, provider=provider, hint="Try again")


def parse_reply(provider: str, data: Any) -> list[StreamEvent]:
    """Turn a ``generateContent`` reply into events; no candidates is an error."""
    parser = StreamParser(provider)
    events = parser.feed(data)
    if not (isinstance(data, dict) and data.get("candidates")):
        raise GenerationFailedError(
            "Gemini returned no reply (no candidates)",
            provider=provider,
            hint="Try again; if it persists, loosen safety_threshold or change the prompt",
        )
    parser.reason = parser.reason or "STOP"
    return events + parser.end()


def parse_models(data: Any) -> list[ModelInfo]:
    """Read ``GET /v1beta/models``, keeping models that support ``generateContent``."""
    items = data.get("models") if isinstance(data, dict) else None
    models: list[ModelInfo] = []
    for item in items or []:
        if not isinstance(item, dict) or "generateContent" not in (
            item.get("supportedGenerationMethods") or []
        ):
            continue
        limit = item.get("inputTokenLimit")
        models.append(
            ModelInfo(
                id=str(item.get("name", "")).removeprefix("models/"),
                name=item.get("displayName"),
                context_length=limit if isinstance(limit, int) else None,
            )
        )
    return models


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) else None
