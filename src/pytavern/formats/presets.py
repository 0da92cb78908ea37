"""Instruct templates, context templates, system prompts and sampler presets (ST JSON).

Each typed template keeps the raw dictionary; ``to_dict`` writes the raw dictionary back with
the typed fields applied, so unknown fields survive a round trip. Bundled templates live in
``pytavern/data/{instruct,context,sysprompt}/``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from pytavern.errors import FormatError, NotFoundError
from pytavern.formats._json import js_dumps_pretty, load_json_object
from pytavern.types import SamplerSettings

PresetKind = Literal["instruct", "context", "sysprompt"]

DEFAULT_STORY_STRING = (
    "{{#if system}}{{system}}\n{{/if}}{{#if wiBefore}}{{wiBefore}}\n{{/if}}"
    "{{#if description}}{{description}}\n{{/if}}{{#if personality}}{{char}}'s personality: "
    "{{personality}}\n{{/if}}{{#if scenario}}Scenario: {{scenario}}\n{{/if}}"
    "{{#if wiAfter}}{{wiAfter}}\n{{/if}}{{#if persona}}{{persona}}\n{{/if}}"
)
"""SillyTavern's default story string (context template "Default")."""

T = TypeVar("T", "InstructTemplate", "ContextTemplate", "SystemPrompt")


def _apply(cls: type[T], raw: dict[str, Any]) -> T:
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in raw and f.name != "raw":
            value = raw[f.name]
            default = f.default
            if isinstance(default, bool):
                value = bool(value)
            elif isinstance(default, str):
                value = "" if value is None else str(value)
            kwargs[f.name] = value
    return cls(raw=raw, **kwargs)


def _to_dict(template: Any) -> dict[str, Any]:
    out = dict(template.raw)
    for f in dataclasses.fields(template):
        value = getattr(template, f.name)
        if f.name != "raw" and (f.name in out or value != f.default):
            out[f.name] = value
    return out


@dataclass(frozen=True, slots=True, eq=False)
class InstructTemplate:
    """An instruct template (sequences wrapped around each turn)."""

    name: str = ""
    input_sequence: str = ""
    input_suffix: str = ""
    output_sequence: str = ""
    output_suffix: str = ""
    system_sequence: str = ""
    system_suffix: str = ""
    last_system_sequence: str = ""
    first_input_sequence: str = ""
    last_input_sequence: str = ""
    first_output_sequence: str = ""
    last_output_sequence: str = ""
    system_sequence_prefix: str = ""
    system_sequence_suffix: str = ""
    stop_sequence: str = ""
    user_alignment_message: str = ""
    wrap: bool = True
    macro: bool = True
    names_behavior: str = "force"
    system_same_as_user: bool = False
    skip_examples: bool = False
    activation_regex: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> InstructTemplate:
        """Read a template dictionary, migrating old fields as SillyTavern does."""
        fixed = dict(raw)
        if "separator_sequence" in fixed and "output_suffix" not in fixed:
            fixed["output_suffix"] = fixed["separator_sequence"]
        if "names_behavior" not in fixed and "names" in fixed:
            force = fixed.get("names_force_groups", True)
            fixed["names_behavior"] = "always" if fixed["names"] else "force" if force else "none"
        template = _apply(cls, fixed)
        return dataclasses.replace(template, raw=raw)

    def to_dict(self) -> dict[str, Any]:
        """The raw dictionary with the typed fields written back."""
        return _to_dict(self)


@dataclass(frozen=True, slots=True, eq=False)
class ContextTemplate:
    """A context template: the story string and the separators around examples and chat."""

    name: str = ""
    story_string: str = DEFAULT_STORY_STRING
    example_separator: str = "***"
    chat_start: str = "***"
    use_stop_strings: bool = False
    names_as_stop_strings: bool = True
    allow_jailbreak: bool = False
    always_force_name2: bool = True
    trim_sentences: bool = False
    single_line: bool = False
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ContextTemplate:
        """Read a context template dictionary."""
        return _apply(cls, raw)

    def to_dict(self) -> dict[str, Any]:
        """The raw dictionary with the typed fields written back."""
        return _to_dict(self)


@dataclass(frozen=True, slots=True, eq=False)
class SystemPrompt:
    """A system-prompt preset (``sysprompt``)."""

    name: str = ""
    content: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SystemPrompt:
        """Read a system prompt dictionary."""
        return _apply(cls, raw)

    def to_dict(self) -> dict[str, Any]:
        """The raw dictionary with the typed fields written back."""
        return _to_dict(self)


KOBOLD_ORDER_NAMES = (
    "top_k",
    "top_a",
    "top_p",
    "tfs",
    "typical_p",
    "temperature",
    "repetition_penalty",
)
"""KoboldAI sampler ids 0..6 by name (id 2, Top P, also runs Min P)."""

_SAMPLER_KEYS: dict[str, str] = {
    "temp": "temperature",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "top_a": "top_a",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "typical": "typical_p",
    "tfs": "tfs",
    "rep_pen": "repetition_penalty",
    "repetition_penalty": "repetition_penalty",
    "rep_pen_range": "repetition_penalty_range",
    "rep_pen_slope": "repetition_penalty_slope",
    "freq_pen": "frequency_penalty",
    "frequency_penalty": "frequency_penalty",
    "presence_pen": "presence_penalty",
    "presence_penalty": "presence_penalty",
    "mirostat_mode": "mirostat_mode",
    "mirostat": "mirostat_mode",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    "dry_multiplier": "dry_multiplier",
    "dry_base": "dry_base",
    "dry_allowed_length": "dry_allowed_length",
    "dry_penalty_last_n": "dry_penalty_last_n",
    "xtc_threshold": "xtc_threshold",
    "xtc_probability": "xtc_probability",
    "smoothing_factor": "smoothing_factor",
    "smoothing_curve": "smoothing_curve",
    "seed": "seed",
    "dynatemp_exponent": "dynatemp_exponent",
    "openai_max_tokens": "max_tokens",
    "genamt": "max_tokens",
}


def sampling_from_preset(raw: Mapping[str, Any], name: str = "preset") -> SamplerSettings:
    """A SillyTavern sampler preset (textgen, kobold or openai file) as ``SamplerSettings``;
    keys pytavern has no sampler for are ignored."""
    values: dict[str, Any] = {}
    for key, target in _SAMPLER_KEYS.items():
        value = raw.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values.setdefault(target, value)
    if raw.get("dynatemp") is True:
        values |= {"dynatemp_low": raw.get("min_temp", 0), "dynatemp_high": raw.get("max_temp", 2)}
    breakers = _breakers(raw.get("dry_sequence_breakers"))
    if breakers is not None:
        values["dry_sequence_breakers"] = breakers
    order = raw.get("sampler_order")
    if isinstance(order, list) and all(isinstance(i, int) and 0 <= i < 7 for i in order):
        values["sampler_order"] = [KOBOLD_ORDER_NAMES[i] for i in order]
    if isinstance(values.get("seed"), int) and values["seed"] < 0:
        values.pop("seed")
    for key in ("top_k", "repetition_penalty_range", "mirostat_mode", "dry_allowed_length"):
        value = values.get(key)
        if isinstance(value, float) and value.is_integer():
            values[key] = int(value)
    try:
        return SamplerSettings.model_validate(values)
    except ValidationError as exc:
        raise FormatError(
            f"sampler preset {name!r} has invalid values ({exc.error_count()} problems)",
            hint="Check the preset file, or pick another one",
        ) from exc


def _breakers(value: object) -> list[str] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return list(value)
    return None


@dataclass(frozen=True, slots=True, eq=False)
class SamplerPreset:
    """A sampler preset file (Text Completion, KoboldAI, NovelAI or Chat Completion)."""

    name: str
    raw: dict[str, Any]

    def to_sampler_settings(self) -> SamplerSettings:
        """Map the preset's fields onto :class:`SamplerSettings` (unknown ones are ignored;
        see :func:`sampling_from_preset`)."""
        return sampling_from_preset(self.raw, self.name)


Template = InstructTemplate | ContextTemplate | SystemPrompt
_CLASSES: dict[str, Any] = {
    "instruct": InstructTemplate,
    "context": ContextTemplate,
    "sysprompt": SystemPrompt,
}


def read_template(kind: PresetKind, data: bytes, filename: str) -> Template:
    """Read an instruct, context or system-prompt JSON file."""
    raw = load_json_object(data, filename, f"{kind} template")
    if kind == "sysprompt" and "content" not in raw:
        raise FormatError(
            f"{filename}: system prompt has no 'content'", hint="Pick a sysprompt file."
        )
    if kind == "context" and "story_string" not in raw:
        raise FormatError(
            f"{filename}: context template has no 'story_string'", hint="Pick a context file."
        )
    if kind == "instruct" and "input_sequence" not in raw and "output_sequence" not in raw:
        raise FormatError(
            f"{filename}: instruct template has no input or output sequence",
            hint="Pick an instruct template file.",
        )
    template: Template = _CLASSES[kind].from_dict(raw)
    return template


def template_to_json(template: Template) -> bytes:
    """Serialise a template (4-space indented, like SillyTavern's preset files)."""
    return js_dumps_pretty(template.to_dict()).encode("utf-8")


def read_sampler_preset(data: bytes, filename: str) -> SamplerPreset:
    """Read a sampler preset JSON file."""
    raw = load_json_object(data, filename, "sampler preset")
    name = str(raw.get("name") or filename.rsplit("/", 1)[-1].removesuffix(".json"))
    return SamplerPreset(name, raw)


def sampler_preset_to_json(preset: SamplerPreset) -> bytes:
    """Serialise a sampler preset's raw dictionary."""
    return js_dumps_pretty(preset.raw).encode("utf-8")


def bundled_names(kind: PresetKind) -> list[str]:
    """Names of the templates shipped with pytavern for ``kind``."""
    return list(_bundled_names(kind))


@lru_cache(maxsize=8)
def _bundled_names(kind: PresetKind) -> tuple[str, ...]:
    folder = resources.files("pytavern.data").joinpath(kind)
    return tuple(
        sorted(p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json"))
    )


@lru_cache(maxsize=256)
def load_bundled(kind: PresetKind, name: str) -> Template:
    """Load one shipped template by name (e.g. ``load_bundled("instruct", "ChatML")``).

    Shipped files do not change while pytavern runs, so each is read once; templates are
    frozen, so the cached one is shared.
    """
    path = resources.files("pytavern.data").joinpath(kind, f"{name}.json")
    if not path.is_file():
        raise NotFoundError(
            f"no bundled {kind} template named {name!r}",
            hint=f"Choose one of: {', '.join(bundled_names(kind))}.",
        )
    return read_template(kind, path.read_bytes(), f"{kind}/{name}.json")
