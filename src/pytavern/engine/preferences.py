"""The user's generation preferences: samplers, context size, templates, author's note,
summaries.

Stored as the user setting ``generation``; a connection's ``sampling`` option overrides the
samplers for that connection (e.g. a different temperature for one model).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytavern.engine.sampler_defaults import family_defaults, with_defaults
from pytavern.errors import ConfigError
from pytavern.providers import get_spec
from pytavern.store import ConnectionRecord, Store
from pytavern.types import SamplerSettings

SETTING_KEY = "generation"
DEFAULT_MAX_TOKENS = 300


class AuthorNote(BaseModel):
    """SillyTavern's author's note: text injected at a depth every ``frequency`` turns."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    text: str = ""
    depth: int = Field(default=4, ge=0)
    frequency: int = Field(default=1, ge=0)
    role: Literal["system", "user", "assistant"] = "system"


DEFAULT_SUMMARY_PROMPT = (
    "Ignore previous instructions. Summarize the most important facts and events in the "
    "story so far. If a summary already exists in your memory, use that as a base and "
    "expand with new facts. Limit the summary to {{words}} words or less. Your response "
    "should include nothing but the summary."
)
"""SillyTavern's Summarize prompt."""


class SummarySettings(BaseModel):
    """How a chat's summary is made and where it goes (SillyTavern's Summarize).

    ``position``: ``in_prompt`` after the main prompt / story string, ``in_chat`` at
    ``depth`` as ``role``, ``before_prompt``, or ``none`` (kept, not sent). ``every``: a
    new summary after that many new messages (a reply's ``finished`` says ``summary_due``
    and the faces make it; 0: only when asked).
    ``max_tokens``: how long the summary may be, if not the reply length."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    prompt: str = Field(default=DEFAULT_SUMMARY_PROMPT, min_length=1, max_length=20_000)
    template: str = Field(default="[Summary: {{summary}}]", max_length=20_000)
    position: Literal["in_prompt", "in_chat", "before_prompt", "none"] = "in_prompt"
    depth: int = Field(default=2, ge=0, le=10_000)
    role: Literal["system", "user", "assistant"] = "system"
    words: int = Field(default=200, ge=1, le=10_000)
    every: int = Field(default=0, ge=0, le=10_000)
    max_tokens: int = Field(default=0, ge=0, le=100_000)
    """The summary's own reply length in tokens (0: the reply length of any turn)."""


class RecallSettings(BaseModel):
    """Earlier messages of a long chat put back into the prompt when they share words with
    the newest ones (what SillyTavern's Vector Storage does for chats, by word match).

    The newest ``query_messages`` messages are the query; the ``results`` best-matching
    messages the prompt's history no longer holds go in, oldest first, as ``Name: text``
    in ``template`` (``{{text}}``), placed like a summary (``position``, ``depth``,
    ``role``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    enabled: bool = False
    query_messages: int = Field(default=2, ge=1, le=20)
    results: int = Field(default=3, ge=1, le=20)
    template: str = Field(default="Past events:\n{{text}}", max_length=20_000)
    position: Literal["in_prompt", "in_chat", "before_prompt"] = "in_chat"
    depth: int = Field(default=2, ge=0, le=10_000)
    role: Literal["system", "user", "assistant"] = "system"


class DatabankSettings(BaseModel):
    """Documents of the Data Bank put into the prompt where they share words with the newest
    messages (SillyTavern's Data Bank with Vector Storage on for files, by word match).

    The newest ``query_messages`` messages are the query; the ``results`` best-matching
    chunks of the documents the chat may use (global ones, its character's, its own) go in
    ``template`` (``{{text}}``), placed like a summary. ``chunk_size`` (characters) cuts
    documents added from then on. With ``by_meaning`` and an embeddings connection set
    (``GenerationPreferences.embeddings``), chunks are found by meaning instead: the
    closest to the query at ``min_score`` or more; by words when that connection fails."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    enabled: bool = True
    query_messages: int = Field(default=2, ge=1, le=20)
    results: int = Field(default=3, ge=1, le=20)
    chunk_size: int = Field(default=1000, ge=100, le=20_000)
    template: str = Field(default="Related information:\n{{text}}", max_length=20_000)
    position: Literal["in_prompt", "in_chat", "before_prompt"] = "in_prompt"
    depth: int = Field(default=4, ge=0, le=10_000)
    role: Literal["system", "user", "assistant"] = "system"
    by_meaning: bool = True
    """Find chunks by meaning when an embeddings connection is set (``embeddings``)."""
    min_score: float = Field(default=0.2, ge=0.0, le=1.0)
    """How close (cosine) a chunk must be to the newest messages to be used."""


class EmbeddingSettings(BaseModel):
    """The connection that turns texts into vectors, so that features find texts by
    meaning (the Data Bank's ``by_meaning``); none set: they look words up."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    connection: str = Field(default="", max_length=200)
    """A stored connection's name ("": no embeddings)."""
    model: str = Field(default="", max_length=500)
    """The embedding model ("": the API type's usual one, else the connection's model)."""


class GenerationPreferences(BaseModel):
    """How replies are generated, whatever the backend."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    sampling: SamplerSettings = Field(
        default_factory=lambda: SamplerSettings(max_tokens=DEFAULT_MAX_TOKENS)
    )
    context_size: int = Field(default=4096, ge=256)
    instruct_template: str | None = None
    """Instruct template for text backends (``None``: ChatML when instruct is on)."""
    instruct_enabled: bool | None = None
    """Instruct formatting for text backends; ``None``: on when a template is picked."""
    instruct_auto_select: bool = True
    """With instruct on, a template whose activation regex matches the model name wins."""
    context_template: str = "Default"
    system_prompt: str | None = None
    """The main prompt typed by the user; ``None`` keeps the preset (text backends) or
    SillyTavern's default main prompt (chat backends)."""
    system_prompt_enabled: bool = True
    """Text backends: send a system prompt at all (SillyTavern's switch)."""
    system_prompt_preset: str = "Neutral - Chat"
    """Text backends: the system-prompt preset used when none is typed."""
    prefer_character_prompt: bool = True
    """Use the card's own system prompt; ``{{original}}`` in it stands for ours."""
    prefer_character_jailbreak: bool = True
    """Use the card's own Post-History Instructions; ``{{original}}`` stands for ours."""
    post_history_instructions: str = ""
    """Chat backends: the Post-History Instructions prompt."""
    persona_id: int | None = None
    world_info: list[str] = Field(default_factory=list)
    """Names of the global lorebooks in play for every chat."""
    author_note: AuthorNote = Field(default_factory=AuthorNote)
    summary: SummarySettings = Field(default_factory=SummarySettings)
    recall: RecallSettings = Field(default_factory=RecallSettings)
    databank: DatabankSettings = Field(default_factory=DatabankSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    trim_sentences: bool = False
    """Cut each finished reply after its last complete sentence."""
    send_sampler_defaults: bool = True
    """Send SillyTavern's default samplers for the backend's family under the ones set
    here (as SillyTavern does); off: send only what is set."""
    sampler_preset: str | None = None
    """The sampler preset last loaded into ``sampling`` (for display)."""


def load_preferences(store: Store) -> GenerationPreferences:
    """The stored preferences (defaults for what was never set)."""
    with store.queries() as queries:
        return parse_preferences(queries.setting_json(SETTING_KEY) or "{}")


def parse_preferences(text: str) -> GenerationPreferences:
    """Stored preferences JSON as ``GenerationPreferences`` (a clear error if invalid)."""
    try:
        return GenerationPreferences.model_validate_json(text)
    except ValidationError as exc:
        raise ConfigError(
            f"the stored generation settings are not valid ({exc.error_count()} problems)",
            hint="Reset them in the settings panel, or save new ones",
        ) from exc


def save_preferences(store: Store, changes: dict[str, Any]) -> GenerationPreferences:
    """Validate and store ``changes`` on top of the current preferences."""
    current = load_preferences(store).model_dump(exclude_none=False)
    merged = _deep_merge(current, changes)
    try:
        preferences = GenerationPreferences.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from exc
    store.set_setting(SETTING_KEY, preferences.model_dump(exclude_none=True))
    return preferences


def sampling_for(preferences: GenerationPreferences, record: ConnectionRecord) -> SamplerSettings:
    """The samplers for one connection: the preferences, overridden by its ``sampling``,
    over SillyTavern's defaults for its family unless ``send_sampler_defaults`` is off."""
    chosen = _chosen_sampling(preferences, record)
    if not preferences.send_sampler_defaults:
        return chosen
    try:
        family = get_spec(record.api).family
    except ConfigError:
        return chosen
    return with_defaults(family_defaults(record.api, family), chosen)


def _chosen_sampling(
    preferences: GenerationPreferences, record: ConnectionRecord
) -> SamplerSettings:
    override = record.options.get("sampling")
    if not isinstance(override, dict) or not override:
        return preferences.sampling
    merged = preferences.sampling.model_dump() | override
    try:
        return SamplerSettings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(
            f"connection {record.name!r} has invalid sampling options",
            hint=f"Fix them: `pytavern connections add {record.name} --api {record.api} "
            "--option sampling='{...}'`",
        ) from exc


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
