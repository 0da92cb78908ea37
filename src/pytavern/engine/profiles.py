"""Connection profiles, as in SillyTavern: a named connection + model + presets (sampler,
instruct, context, system prompt), chosen per chat in one click.

Profiles are the user setting ``connection_profiles``; a chat's choice is its private
metadata ``connection_profile``. A turn of a chat with a profile uses the profile's
connection (unless the turn names one), its model, and its presets over the user's
generation settings; a chat without one is untouched (one dictionary look-up).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytavern.engine.preferences import GenerationPreferences
from pytavern.engine.turn_loader import ParsedCache, TurnData, load_turn
from pytavern.errors import ConfigError, NotFoundError
from pytavern.formats.presets import (
    ContextTemplate,
    InstructTemplate,
    SamplerPreset,
    SystemPrompt,
    load_bundled,
)
from pytavern.providers import get_spec
from pytavern.secrets import SecretStore
from pytavern.store import Store

SETTING_KEY = "connection_profiles"
CHAT_KEY = "connection_profile"


class ConnectionProfile(BaseModel):
    """A named connection, model and presets."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: str = Field(min_length=1, max_length=64)
    connection: str = Field(min_length=1)
    model: str | None = None
    """The model to use instead of the connection's own."""
    sampler_preset: str | None = None
    instruct_template: str | None = None
    context_template: str | None = None
    system_prompt: str | None = None
    """The name of a system-prompt preset (stored or bundled)."""


def load_profiles(store: Store) -> dict[str, ConnectionProfile]:
    """Every stored profile by name (a damaged entry is a ``ConfigError`` saying so)."""
    raw = store.get_setting(SETTING_KEY, {})
    if not isinstance(raw, dict):
        return {}
    try:
        return {name: ConnectionProfile.model_validate(value) for name, value in raw.items()}
    except ValidationError as exc:
        raise ConfigError(
            "the stored connection profiles are not valid",
            hint="Save the profile again with `pytavern profiles add`",
        ) from exc


def save_profiles(store: Store, profiles: dict[str, ConnectionProfile]) -> None:
    """Store ``profiles`` (replacing the stored ones)."""
    store.set_setting(SETTING_KEY, {n: p.model_dump() for n, p in sorted(profiles.items())})


def check_profile(store: Store, profile: ConnectionProfile) -> None:
    """Refuse a profile naming a connection or preset that does not exist."""
    store.get_connection(profile.connection)
    for kind, name in (
        ("sampler", profile.sampler_preset),
        ("instruct", profile.instruct_template),
        ("context", profile.context_template),
        ("sysprompt", profile.system_prompt),
    ):
        if name and _preset(store, kind, name) is None:
            raise NotFoundError(
                f"no {kind} preset named {name!r}",
                hint="Import or save it first (see `pytavern presets`), or leave it out",
            )


def _preset(store: Store, kind: str, name: str) -> dict[str, Any] | None:
    with store.queries() as queries:
        text = queries.preset_json(kind, name)
    if text is not None:
        data = json.loads(text)
        return data if isinstance(data, dict) else None
    if kind == "sampler":
        return None
    try:
        template = load_bundled(kind, name)
    except NotFoundError:
        return None
    return dict(getattr(template, "raw", {}) or {"name": name})


def apply_profile(
    store: Store, secrets: SecretStore, parsed: ParsedCache, turn: TurnData
) -> TurnData:
    """``turn`` with its chat's profile applied (unchanged when the chat has none)."""
    name = turn.chat.metadata.get(CHAT_KEY)
    if not isinstance(name, str) or not name:
        return turn
    profile = load_profiles(store).get(name)
    if profile is None:
        return turn  # a deleted profile: the chat goes on with the defaults
    if turn.request.connection is None and profile.connection != turn.record.name:
        request = dataclasses.replace(turn.request, connection=profile.connection)
        reloaded = load_turn(store, secrets, parsed, request)
        turn = dataclasses.replace(reloaded, request=turn.request)
    preferences = _preferences(store, turn.preferences, profile)
    config, record = turn.config, turn.record
    if profile.model and profile.connection == turn.record.name:
        config = dataclasses.replace(config, model=profile.model)
        record = dataclasses.replace(record, model=profile.model)
    instruct, context = _templates(store, profile, turn)
    return dataclasses.replace(
        turn,
        preferences=preferences,
        config=config,
        record=record,
        instruct=instruct,
        context=context,
    )


def _preferences(
    store: Store, current: GenerationPreferences, profile: ConnectionProfile
) -> GenerationPreferences:
    changes: dict[str, Any] = {}
    if profile.sampler_preset:
        raw = _preset(store, "sampler", profile.sampler_preset)
        if raw is not None:
            changes["sampling"] = SamplerPreset(profile.sampler_preset, raw).to_sampler_settings()
    if profile.instruct_template:
        changes["instruct_template"] = profile.instruct_template
    if profile.context_template:
        changes["context_template"] = profile.context_template
    if profile.system_prompt:
        raw = _preset(store, "sysprompt", profile.system_prompt)
        if raw is not None:
            changes["system_prompt"] = SystemPrompt.from_dict(raw).content
    return current.model_copy(update=changes) if changes else current


def _templates(
    store: Store, profile: ConnectionProfile, turn: TurnData
) -> tuple[InstructTemplate | None, ContextTemplate | None]:
    instruct, context = turn.instruct, turn.context
    if get_spec(turn.record.api).family != "text":
        return instruct, context  # only text backends use templates
    if profile.instruct_template:
        raw = _stored(store, "instruct", profile.instruct_template)
        instruct = InstructTemplate.from_dict(raw) if raw is not None else None
    if profile.context_template:
        raw = _stored(store, "context", profile.context_template)
        context = ContextTemplate.from_dict(raw) if raw is not None else None
    return instruct, context


def _stored(store: Store, kind: str, name: str) -> dict[str, Any] | None:
    """A stored template (``None`` leaves a bundled one to the prompt builder)."""
    with store.queries() as queries:
        text = queries.preset_json(kind, name)
    data = json.loads(text) if text is not None else None
    return data if isinstance(data, dict) else None
