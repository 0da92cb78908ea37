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

from functools import cache

from pytavern.formats.presets import KOBOLD_ORDER_NAMES, sampling_from_preset
from pytavern.providers import get_spec
from pytavern.types import SamplerSettings

__all__ = [
    "KOBOLD_ORDER_NAMES",
    "TEXTGEN_ORDERS",
    "family_defaults",
    "openai_default",
    "recovered_ruins",
    "sampling_from_preset",
    "textgen_default",
    "with_defaults",
]

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


@cache
def textgen_default() -> SamplerSettings:
    """SillyTavern's first-run text-generation samplers (built on first use, as the two
    below: the sampler model is not built before a turn or a page needs it)."""
    return SamplerSettings(
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


@cache
def recovered_ruins() -> SamplerSettings:
    """The "RecoveredRuins" preset: KoboldAI Classic's and the AI Horde's defaults."""
    return SamplerSettings(
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


@cache
def openai_default() -> SamplerSettings:
    """The "Default" OpenAI preset: chat-completion backends' defaults."""
    return SamplerSettings(temperature=1, top_p=1, frequency_penalty=0, presence_penalty=0)


def family_defaults(api: str, family: str) -> SamplerSettings:
    """SillyTavern's default samplers for API type ``api`` of ``family`` (empty for none),
    as its spec declares them (``sampler_defaults``, ``sampler_order_defaults``)."""
    spec = get_spec(api)
    if spec.sampler_defaults == "none" or family not in ("text", "chat"):
        return SamplerSettings()
    if family == "chat":
        return openai_default()
    if spec.sampler_defaults == "kobold-classic":
        return recovered_ruins()
    order = spec.sampler_order_defaults
    return textgen_default().model_copy(
        update={"sampler_order": list(TEXTGEN_ORDERS[order])} if order else {}
    )


def with_defaults(defaults: SamplerSettings, chosen: SamplerSettings) -> SamplerSettings:
    """``chosen`` with every field it leaves unset taken from ``defaults``."""
    return defaults.model_copy(update=chosen.set_fields())
