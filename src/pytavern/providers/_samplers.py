"""One mapping layer from ``SamplerSettings`` to each text backend's parameter names.

Each backend has a table ``field -> parameter name(s)`` plus a few special rules (dynamic
temperature, sampler order, bans, logit bias). A field missing from a backend's table is
left out of its requests; ``supported_samplers(backend)`` names the fields it takes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pytavern.types import SamplerSettings

Params = dict[str, Any]
Rule = Callable[[SamplerSettings], Params]

KOBOLD_ORDER = {
    "top_k": 0,
    "top_a": 1,
    "top_p": 2,
    "min_p": 2,
    "tfs": 3,
    "typical_p": 4,
    "temperature": 5,
    "repetition_penalty": 6,
}
"""KoboldAI sampler ids (Min P runs with Top P)."""

NOVELAI_ORDER = {
    "temperature": 0,
    "top_k": 1,
    "top_p": 2,
    "tfs": 3,
    "top_a": 4,
    "typical_p": 5,
    "mirostat": 8,
    "min_p": 10,
}
"""NovelAI sampler ids for ``parameters.order``."""

LLAMACPP_ORDER = {
    "top_k": "top_k",
    "tfs": "tfs_z",
    "typical_p": "typ_p",
    "top_p": "top_p",
    "min_p": "min_p",
    "temperature": "temperature",
    "dry": "dry",
    "xtc": "xtc",
    "repetition_penalty": "penalties",
}
"""llama.cpp sampler names for ``samplers``."""

_KOBOLD_COMMON: dict[str, str] = {
    "max_tokens": "max_length",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "top_a": "top_a",
    "typical_p": "typical",
    "tfs": "tfs",
    "repetition_penalty": "rep_pen",
    "repetition_penalty_range": "rep_pen_range",
    "repetition_penalty_slope": "rep_pen_slope",
    "stop": "stop_sequence",
    "seed": "sampler_seed",
}

_KOBOLDCPP: dict[str, str] = {
    **_KOBOLD_COMMON,
    "min_p": "min_p",
    "presence_penalty": "presence_penalty",
    "mirostat_mode": "mirostat",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    "dry_multiplier": "dry_multiplier",
    "dry_base": "dry_base",
    "dry_allowed_length": "dry_allowed_length",
    "dry_penalty_last_n": "dry_penalty_last_n",
    "dry_sequence_breakers": "dry_sequence_breakers",
    "xtc_threshold": "xtc_threshold",
    "xtc_probability": "xtc_probability",
    "smoothing_factor": "smoothing_factor",
    "banned_tokens": "banned_tokens",
    "logit_bias": "logit_bias",
    "grammar": "grammar",
}

_HORDE: dict[str, str] = {
    key: value for key, value in _KOBOLD_COMMON.items() if key not in {"seed"}
} | {"min_p": "min_p", "smoothing_factor": "smoothing_factor"}

_OAI_BASE: dict[str, str] = {
    "max_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "seed": "seed",
    "stop": "stop",
    "logit_bias": "logit_bias",
}

_HUGGINGFACE: dict[str, str] = {
    **{k: v for k, v in _OAI_BASE.items() if k not in ("presence_penalty", "logit_bias")},
    "repetition_penalty": "repetition_penalty",
}
"""TGI's completions: OpenAI's fields it takes, and ``repetition_penalty``."""

_DREAMGEN: dict[str, str] = {
    **_OAI_BASE,
    "top_k": "top_k",
    "min_p": "min_p",
    "repetition_penalty": "repetition_penalty",
}
del _DREAMGEN["seed"], _DREAMGEN["logit_bias"]

_VLLM: dict[str, str] = {
    **_OAI_BASE,
    "top_k": "top_k",
    "min_p": "min_p",
    "repetition_penalty": "repetition_penalty",
}

_EXTENDED: dict[str, str] = {
    **_VLLM,
    "top_a": "top_a",
    "typical_p": "typical_p",
    "tfs": "tfs",
    "mirostat_mode": "mirostat_mode",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    "smoothing_factor": "smoothing_factor",
}

_MANCER: dict[str, str] = {k: v for k, v in _EXTENDED.items() if k != "logit_bias"}

_DRY: dict[str, str] = {
    "dry_multiplier": "dry_multiplier",
    "dry_base": "dry_base",
    "dry_allowed_length": "dry_allowed_length",
    "dry_penalty_last_n": "dry_penalty_last_n",
}

_APHRODITE: dict[str, str] = {
    **{k: v for k, v in _EXTENDED.items() if not k.startswith("mirostat")},
    **_DRY,
    "dry_penalty_last_n": "dry_range",
    "dry_sequence_breakers": "dry_sequence_breakers",
    "xtc_threshold": "xtc_threshold",
    "xtc_probability": "xtc_probability",
    "smoothing_curve": "smoothing_curve",
    "grammar": "guided_grammar",
}
"""Aphrodite's completions fields (its DRY range is ``dry_range``, breakers a list)."""

_OOBA: dict[str, str] = {
    **_EXTENDED,
    **_DRY,
    "repetition_penalty_range": "repetition_penalty_range",
    "xtc_threshold": "xtc_threshold",
    "xtc_probability": "xtc_probability",
    "smoothing_curve": "smoothing_curve",
    "banned_tokens": "banned_strings",
    "grammar": "grammar_string",
}

_TABBY: dict[str, str] = {
    **_EXTENDED,
    **_DRY,
    "repetition_penalty_range": "penalty_range",
    "repetition_penalty_slope": "repetition_decay",
    "typical_p": "typical",
    "xtc_threshold": "xtc_threshold",
    "xtc_probability": "xtc_probability",
    "banned_tokens": "banned_strings",
    "grammar": "grammar_string",
}

_LLAMACPP: dict[str, str] = {
    "max_tokens": "n_predict",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "tfs": "tfs_z",
    "repetition_penalty": "repeat_penalty",
    "repetition_penalty_range": "repeat_last_n",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "mirostat_mode": "mirostat",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    **_DRY,
    "dry_sequence_breakers": "dry_sequence_breakers",
    "xtc_threshold": "xtc_threshold",
    "xtc_probability": "xtc_probability",
    "seed": "seed",
    "stop": "stop",
    "grammar": "grammar",
}

_OLLAMA: dict[str, str] = {
    "max_tokens": "num_predict",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "tfs": "tfs_z",
    "repetition_penalty": "repeat_penalty",
    "repetition_penalty_range": "repeat_last_n",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "mirostat_mode": "mirostat",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    "seed": "seed",
    "stop": "stop",
}

LLAMA_CPP_PYTHON: dict[str, str] = {
    **{
        field: _LLAMACPP[field]
        for field in (
            "temperature",
            "top_p",
            "top_k",
            "min_p",
            "typical_p",
            "tfs",
            "repetition_penalty",
            "frequency_penalty",
            "presence_penalty",
            "mirostat_tau",
            "mirostat_eta",
            "seed",
            "stop",
        )
    },
    "max_tokens": "max_tokens",
    "mirostat_mode": "mirostat_mode",
}
"""llama-cpp-python's keyword arguments for the built-in model (``local_run.py``): the
llama.cpp server's names but for the two it spells differently. Not a wire backend, so not
in ``backends()``; its grammar is built by the provider, not mapped."""

_NOVELAI: dict[str, str] = {
    "max_tokens": "max_length",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "top_a": "top_a",
    "min_p": "min_p",
    "typical_p": "typical_p",
    "tfs": "tail_free_sampling",
    "repetition_penalty": "repetition_penalty",
    "repetition_penalty_range": "repetition_penalty_range",
    "repetition_penalty_slope": "repetition_penalty_slope",
    "frequency_penalty": "repetition_penalty_frequency",
    "presence_penalty": "repetition_penalty_presence",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_lr",
}

_DYNATEMP = ("dynatemp_low", "dynatemp_high", "dynatemp_exponent")


def _dynatemp_range(s: SamplerSettings) -> Params:
    """KoboldCpp / llama.cpp / Horde style: midpoint temperature plus a +/- range."""
    if s.dynatemp_low is None or s.dynatemp_high is None:
        return {}
    out: Params = {
        "temperature": (s.dynatemp_low + s.dynatemp_high) / 2,
        "dynatemp_range": (s.dynatemp_high - s.dynatemp_low) / 2,
    }
    if s.dynatemp_exponent is not None:
        out["dynatemp_exponent"] = s.dynatemp_exponent
    return out


def _dynatemp_ooba(s: SamplerSettings) -> Params:
    if s.dynatemp_low is None or s.dynatemp_high is None:
        return {}
    out: Params = {
        "dynamic_temperature": True,
        "dynatemp_low": s.dynatemp_low,
        "dynatemp_high": s.dynatemp_high,
    }
    if s.dynatemp_exponent is not None:
        out["dynatemp_exponent"] = s.dynatemp_exponent
    return out


def _dynatemp_tabby(s: SamplerSettings) -> Params:
    if s.dynatemp_low is None or s.dynatemp_high is None:
        return {}
    out: Params = {"min_temp": s.dynatemp_low, "max_temp": s.dynatemp_high}
    if s.dynatemp_exponent is not None:
        out["temp_exponent"] = s.dynatemp_exponent
    return out


def _dynatemp_mancer(s: SamplerSettings) -> Params:
    """Mancer (as SillyTavern sends it): ``dynatemp_mode: 1`` and a min/max."""
    if s.dynatemp_low is None or s.dynatemp_high is None:
        return {}
    out: Params = {
        "dynatemp_mode": 1,
        "dynatemp_min": s.dynatemp_low,
        "dynatemp_max": s.dynatemp_high,
    }
    if s.dynatemp_exponent is not None:
        out["dynatemp_exponent"] = s.dynatemp_exponent
    return out


def _dynatemp_min_max(s: SamplerSettings) -> Params:
    """Aphrodite: ``dynatemp_min`` / ``dynatemp_max`` (and the exponent)."""
    if s.dynatemp_low is None or s.dynatemp_high is None:
        return {}
    out: Params = {"dynatemp_min": s.dynatemp_low, "dynatemp_max": s.dynatemp_high}
    if s.dynatemp_exponent is not None:
        out["dynatemp_exponent"] = s.dynatemp_exponent
    return out


def token_ids(entry: str) -> list[int] | None:
    """The token ids a banned-tokens entry gives (``123`` or ``[1, 2, 3]``), else ``None``
    (the entry is text)."""
    text = entry.strip()
    if text.isdigit():
        return [int(text)]
    if text.startswith("[") and text.endswith("]"):
        try:
            values = json.loads(text)
        except ValueError:
            return None
        if isinstance(values, list) and all(isinstance(v, int) for v in values):
            return values
    return None


def _custom_token_bans(s: SamplerSettings) -> Params:
    """Aphrodite's ``custom_token_bans``: an int array of the entries given as ids (the
    provider turns text entries into ids with the server's tokenizer first)."""
    ids: list[int] = []
    for entry in s.banned_tokens or []:
        for token in token_ids(entry) or []:
            if token not in ids:
                ids.append(token)
    return {"custom_token_bans": ids} if ids else {}


def _seed_if_set(s: SamplerSettings) -> Params:
    """A seed of 0 or more; a negative one (SillyTavern's "random") is left out."""
    return {"seed": s.seed} if s.seed is not None and s.seed >= 0 else {}


def _order(table: dict[str, Any], key: str) -> Rule:
    def rule(s: SamplerSettings) -> Params:
        if not s.sampler_order:
            return {}
        seen: list[Any] = []
        for name in s.sampler_order:
            value = table.get(name)
            if value is not None and value not in seen:
                seen.append(value)
        return {key: seen} if seen else {}

    return rule


def _order_names(key: str) -> Rule:
    def rule(s: SamplerSettings) -> Params:
        return {key: list(s.sampler_order)} if s.sampler_order else {}

    return rule


def _dry_breakers_json(s: SamplerSettings) -> Params:
    """Ooba and Tabby take the DRY sequence breakers as a JSON array string."""
    if s.dry_sequence_breakers is None:
        return {}
    return {"dry_sequence_breakers": json.dumps(s.dry_sequence_breakers)}


def _llamacpp_bias(s: SamplerSettings) -> Params:
    """llama.cpp takes ``[[token_or_string, bias | false], ...]``; bans become ``false``."""
    pairs: list[list[Any]] = []
    for token, bias in (s.logit_bias or {}).items():
        pairs.append([int(token) if token.isdigit() else token, bias])
    for text in s.banned_tokens or []:
        pairs.append([text, False])
    return {"logit_bias": pairs} if pairs else {}


_RULES: dict[str, dict[str, Rule]] = {
    "kobold": {"sampler_order": _order(KOBOLD_ORDER, "sampler_order")},
    "koboldcpp": {
        "sampler_order": _order(KOBOLD_ORDER, "sampler_order"),
        "dynatemp": _dynatemp_range,
    },
    "horde": {
        "sampler_order": _order(KOBOLD_ORDER, "sampler_order"),
        "dynatemp": _dynatemp_range,
    },
    "ooba": {
        "dynatemp": _dynatemp_ooba,
        "dry_sequence_breakers": _dry_breakers_json,
        "sampler_order": _order_names("sampler_priority"),
    },
    "tabby": {"dynatemp": _dynatemp_tabby, "dry_sequence_breakers": _dry_breakers_json},
    "mancer": {"dynatemp": _dynatemp_mancer},
    "llamacpp": {
        "dynatemp": _dynatemp_range,
        "sampler_order": _order(LLAMACPP_ORDER, "samplers"),
        "logit_bias": _llamacpp_bias,
        "banned_tokens": _llamacpp_bias,
    },
    "novelai": {"sampler_order": _order(NOVELAI_ORDER, "order")},
    "aphrodite": {
        "dynatemp": _dynatemp_min_max,
        "banned_tokens": _custom_token_bans,
        "seed": _seed_if_set,
    },
}

_TABLES: dict[str, dict[str, str]] = {
    "kobold": _KOBOLD_COMMON,
    "koboldcpp": _KOBOLDCPP,
    "horde": _HORDE,
    "ooba": _OOBA,
    "tabby": _TABBY,
    "vllm": _VLLM,
    "mancer": _MANCER,
    "dreamgen": _DREAMGEN,
    "llamacpp": _LLAMACPP,
    "ollama": _OLLAMA,
    "novelai": _NOVELAI,
    "generic": _OAI_BASE,
    "huggingface": _HUGGINGFACE,
    "aphrodite": _APHRODITE,
}

TOKENIZED: dict[str, frozenset[str]] = {
    "novelai": frozenset({"stop", "banned_tokens", "logit_bias"}),
}
"""Fields a backend takes as token ids of its model's tokenizer: the provider encodes them
(see ``novelai.py``), so ``map_samplers`` leaves them out."""


def backends() -> tuple[str, ...]:
    """Return the names of every backend with a sampler mapping."""
    return tuple(_TABLES)


def supported_samplers(backend: str) -> frozenset[str]:
    """Return the ``SamplerSettings`` field names ``backend`` takes."""
    names = set(_TABLES[backend])
    for rule_name in _RULES.get(backend, {}):
        names.update(_DYNATEMP if rule_name == "dynatemp" else (rule_name,))
    names.update(TOKENIZED.get(backend, ()))
    return frozenset(names)


def map_samplers(backend: str, settings: SamplerSettings) -> Params:
    """Return the request parameters for ``settings`` in ``backend``'s names.

    Fields the backend does not take are left out.
    """
    table = _TABLES[backend]
    rules = _RULES.get(backend, {})
    out: Params = {}
    for field, value in settings.set_fields().items():
        if field in rules or field in _DYNATEMP:
            continue
        param = table.get(field)
        if param is not None:
            out[param] = value
    for rule in dict.fromkeys(rules.values()):
        out.update(rule(settings))
    return out


def unsupported_set_fields(backend: str, settings: SamplerSettings) -> list[str]:
    """Return the fields the user set that ``backend`` will not receive."""
    supported = supported_samplers(backend)
    return sorted(k for k in settings.set_fields() if k not in supported)
