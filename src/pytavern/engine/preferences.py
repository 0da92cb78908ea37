"""The user's generation preferences: samplers, context size, templates, author's note.

Stored as the user setting ``generation``; a connection's ``sampling`` option overrides the
samplers for that connection (e.g. a different temperature for one model).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytavern.errors import ConfigError
from pytavern.store import ConnectionRecord, Store
from pytavern.types import SamplerSettings

SETTING_KEY = "generation"
DEFAULT_MAX_TOKENS = 300


class AuthorNote(BaseModel):
    """SillyTavern's author's note: text injected at a depth every ``frequency`` turns."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    depth: int = Field(default=4, ge=0)
    frequency: int = Field(default=1, ge=0)
    role: Literal["system", "user", "assistant"] = "system"


class GenerationPreferences(BaseModel):
    """How replies are generated, whatever the backend."""

    model_config = ConfigDict(extra="forbid")

    sampling: SamplerSettings = Field(
        default_factory=lambda: SamplerSettings(max_tokens=DEFAULT_MAX_TOKENS)
    )
    context_size: int = Field(default=4096, ge=256)
    instruct_template: str | None = None
    """Instruct template for text backends; ``None`` picks one from the model name."""
    context_template: str = "Default"
    system_prompt: str | None = None
    """The main prompt; ``None`` keeps SillyTavern's default."""
    persona_id: int | None = None
    world_info: list[str] = Field(default_factory=list)
    """Names of the global lorebooks in play for every chat."""
    author_note: AuthorNote = Field(default_factory=AuthorNote)
    trim_sentences: bool = False
    """Cut each finished reply after its last complete sentence."""


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
    """The samplers for one connection: the preferences, overridden by its ``sampling``."""
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
