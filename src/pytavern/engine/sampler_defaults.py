"""SillyTavern's default samplers per API family, and its sampler preset files.

SillyTavern sends its whole current preset with every request, so out of the box a backend
gets SillyTavern's defaults rather than its own. ``family_defaults`` are those defaults
(SillyTavern 1.12.6's first-run settings):

- text-generation backends (KoboldCpp, llama.cpp, Ooba, Tabby, vLLM...): the
  ``textgenerationwebui_settings`` of its default ``settings.json`` over the defaults of
  ``textgen-settings.js`` (temperature 0.5, top P 0.9, top K 0, repetition penalty 1.1,
  DRY and XTC off, its sampler order);
- KoboldAI Classic and AI Horde: the "RecoveredRuins" preset;
- chat-completion backends: the "Default" OpenAI preset (temperature 1, top P 1, no
  frequency or presence penalty);
- NovelAI, whose presets depend on the model, and the built-in model: none.

``sampling_from_preset`` reads SillyTavern's preset files (``presets/textgen``,
``presets/kobold``, ``presets/openai``) into ``SamplerSettings``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from pytavern.errors import FormatError
from pytavern.types import SamplerSettings

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

TEXTGEN_ORDERS: dict[str, list[str]] = {
    "kobold_ids": [KOBOLD_ORDER_NAMES[i] for i in (6, 0, 1, 3, 4, 2, 5)],
    "llamacpp": ["top_k", "tfs", "typical_p", "top_p", "min_p", "temperature"],
    "ooba": [
        "temperature",
        "dynamic_temperature",
        "quadratic_sampling",
        "top_k",
        "top_p",
        "typical_p",
        "epsilon_cutoff",
        "eta_cutoff",
        "tfs",
        "top_a",
        "min_p",
        "mirostat",
    ],
}
"""SillyTavern's default sampler orders: KoboldCpp's ids [6,0,1,3,4,2,5], llama.cpp's
``samplers`` and Ooba's ``sampler_priority``."""

TEXTGEN = SamplerSettings(
    temperature=0.5,
    top_p=0.9,
    top_k=0,
    top_a=0,
    tfs=1,
    typical_p=1,
    min_p=0,
    repetition_penalty=1.1,
    repetition_penalty_range=0,
    repetition_penalty_slope=1,
    frequency_penalty=0,
    presence_penalty=0,
    mirostat_mode=0,
    mirostat_tau=5,
    mirostat_eta=0.1,
    dry_multiplier=0,
    dry_base=1.75,
    dry_allowed_length=2,
    dry_penalty_last_n=0,
    dry_sequence_breakers=["\n", ":", '"', "*"],
    xtc_threshold=0.1,
    xtc_probability=0,
    smoothing_factor=0,
    smoothing_curve=1,
)
RECOVERED_RUINS = SamplerSettings(
    temperature=1,
    repetition_penalty=1.1,
    repetition_penalty_range=600,
    top_p=0.95,
    top_a=0,
    top_k=0,
    typical_p=1,
    tfs=1,
    repetition_penalty_slope=0,
    mirostat_mode=0,
    mirostat_tau=5,
    mirostat_eta=0.1,
    sampler_order=[KOBOLD_ORDER_NAMES[i] for i in (6, 0, 1, 2, 3, 4, 5)],
)
OPENAI_DEFAULT = SamplerSettings(temperature=1, top_p=1, frequency_penalty=0, presence_penalty=0)

_KOBOLD_CLASSIC = frozenset({"kobold", "horde"})
_NO_DEFAULTS = frozenset({"novelai"})
_ORDER_BY_API = {"koboldcpp": "kobold_ids", "llamacpp": "llamacpp", "ooba": "ooba"}


def family_defaults(api: str, family: str) -> SamplerSettings:
    """SillyTavern's default samplers for API type ``api`` of ``family`` (empty for none)."""
    if api in _NO_DEFAULTS or family not in ("text", "chat"):
        return SamplerSettings()
    if family == "chat":
        return OPENAI_DEFAULT
    if api in _KOBOLD_CLASSIC:
        return RECOVERED_RUINS
    order = _ORDER_BY_API.get(api)
    return TEXTGEN.model_copy(
        update={"sampler_order": list(TEXTGEN_ORDERS[order])} if order else {}
    )


def with_defaults(defaults: SamplerSettings, chosen: SamplerSettings) -> SamplerSettings:
    """``chosen`` with every field it leaves unset taken from ``defaults``."""
    return defaults.model_copy(update=chosen.set_fields())


_SCALARS: dict[str, str] = {
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
    for key, field in _SCALARS.items():
        value = raw.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values.setdefault(field, value)
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
