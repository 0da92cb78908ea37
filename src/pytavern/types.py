"""Core value types shared by every layer: messages, requests, completions, usage.

These are plain frozen dataclasses (fast to build, no validation cost on the hot path);
sampler settings are a pydantic model because they come from users and presets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["system", "user", "assistant"]
"""Who a chat message is from, in chat-completion terms."""

FinishReason = Literal["stop", "length", "stop_sequence", "cancelled", "error", "content_filter"]
"""Why a generation ended. ``cancelled`` means the user stopped it."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a chat-completion prompt."""

    role: Role
    content: str
    name: str | None = None


def _is_count(value: object) -> bool:
    return type(value) is int and value >= 0


def _whole(value: object) -> int | None:
    """A whole, non-negative float as an int (``12.0``); anything else ``None``."""
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts for one generation, as reported by the backend (or counted by us)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    """Prompt tokens read from the backend's prompt cache (Claude's cache reads, OpenAI's
    ``cached_tokens``, DeepSeek's cache hits, Gemini's cached content)."""
    cache_write_tokens: int | None = None
    """Prompt tokens written to the prompt cache (Claude's cache creation)."""
    reasoning_tokens: int | None = None
    """Output tokens spent on reasoning, where the backend says."""

    def __post_init__(self) -> None:
        """A count a backend got wrong (text, a fraction, a negative number, ``true``) is
        taken as unknown: it would break the usage ledger and the cost, not the reply."""
        for count in fields(self):
            value = getattr(self, count.name)
            if value is not None and not _is_count(value):
                object.__setattr__(self, count.name, _whole(value))

    def to_dict(self) -> dict[str, int | None]:
        """Return the counts as a JSON-ready mapping (cache and reasoning counts when known)."""
        counts = {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}
        for name in ("cached_tokens", "cache_write_tokens", "reasoning_tokens"):
            value = getattr(self, name)
            if value is not None:
                counts[name] = value
        return counts


class SamplerSettings(BaseModel):
    """Every sampler SillyTavern knows, in one typed model; ``None`` means "not set".

    Each provider maps the fields it supports to its own parameter names and leaves the
    rest out (see ``Provider.supported_samplers``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    max_tokens: int | None = None
    temperature: float | None = None
    dynatemp_low: float | None = None
    dynatemp_high: float | None = None
    dynatemp_exponent: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    top_a: float | None = None
    min_p: float | None = None
    typical_p: float | None = None
    tfs: float | None = None
    repetition_penalty: float | None = None
    repetition_penalty_range: int | None = None
    repetition_penalty_slope: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    mirostat_mode: int | None = None
    mirostat_tau: float | None = None
    mirostat_eta: float | None = None
    dry_multiplier: float | None = None
    dry_base: float | None = None
    dry_allowed_length: int | None = None
    dry_penalty_last_n: int | None = None
    dry_sequence_breakers: list[str] | None = None
    xtc_threshold: float | None = None
    xtc_probability: float | None = None
    smoothing_factor: float | None = None
    smoothing_curve: float | None = None
    seed: int | None = None
    stop: list[str] | None = None
    banned_tokens: list[str] | None = None
    logit_bias: dict[str, float] | None = None
    grammar: str | None = None
    sampler_order: list[str] | None = None

    def set_fields(self) -> dict[str, object]:
        """Return only the fields the user set (not ``None``), lists and dicts copied.

        Read from the fields themselves: every field is a number, a string, a list of
        strings or a dict of numbers, which ``model_dump`` would give back alike, at ten
        times the cost (every request asks for them)."""
        return {
            name: value.copy() if isinstance(value, list | dict) else value
            for name, value in self.__dict__.items()
            if value is not None
        }


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """What a face asks a provider to generate.

    Chat backends read ``messages``; text backends read ``prompt`` when the prompt engine
    built one, and otherwise format ``messages`` themselves.
    """

    messages: tuple[ChatMessage, ...]
    model: str | None = None
    sampling: SamplerSettings = field(default_factory=SamplerSettings)
    prompt: str | None = None
    prefill: str | None = None
    context_size: int | None = None
    stream: bool = True


@dataclass(frozen=True, slots=True)
class Completion:
    """The accumulated result of one generation."""

    text: str
    finish_reason: FinishReason
    reasoning: str = ""
    usage: Usage = field(default_factory=Usage)
    model: str | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model a backend offers."""

    id: str
    name: str | None = None
    context_length: int | None = None


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """The outcome of checking a connection, in words a person can act on."""

    ok: bool
    summary: str
    hint: str | None = None
    model: str | None = None
    models: tuple[str, ...] = ()
    details: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Return the status as a JSON-ready mapping."""
        return {
            "ok": self.ok,
            "summary": self.summary,
            "hint": self.hint,
            "model": self.model,
            "models": list(self.models),
            "details": self.details,
        }
