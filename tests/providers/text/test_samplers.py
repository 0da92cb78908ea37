"""The sampler mapping: for each backend, which fields are sent (and under which names) and
which are left out."""

from __future__ import annotations

import pytest

from pytavern.providers._chatml import chatml_prompt, prompt_and_stops
from pytavern.providers._samplers import (
    backends,
    map_samplers,
    supported_samplers,
    unsupported_set_fields,
)
from pytavern.types import ChatMessage, GenerationRequest, SamplerSettings

EVERYTHING = SamplerSettings(
    max_tokens=100,
    temperature=0.9,
    dynatemp_low=0.5,
    dynatemp_high=1.5,
    dynatemp_exponent=1.0,
    top_p=0.95,
    top_k=40,
    top_a=0.1,
    min_p=0.05,
    typical_p=0.9,
    tfs=0.95,
    repetition_penalty=1.1,
    repetition_penalty_range=1024,
    repetition_penalty_slope=0.7,
    frequency_penalty=0.2,
    presence_penalty=0.3,
    mirostat_mode=2,
    mirostat_tau=5.0,
    mirostat_eta=0.1,
    dry_multiplier=0.8,
    dry_base=1.75,
    dry_allowed_length=2,
    dry_penalty_last_n=0,
    dry_sequence_breakers=["\n", ":"],
    xtc_threshold=0.1,
    xtc_probability=0.5,
    smoothing_factor=0.2,
    smoothing_curve=1.0,
    seed=42,
    stop=["\nUser:"],
    banned_tokens=["shivers"],
    logit_bias={"123": -2.0},
    grammar="root ::= .*",
    sampler_order=["repetition_penalty", "top_k", "top_p", "temperature"],
)

# backend -> (params that must be sent with their values, fields that must be left out)
TABLE: dict[str, tuple[dict[str, object], set[str]]] = {
    "kobold": (
        {
            "max_length": 100,
            "rep_pen": 1.1,
            "typical": 0.9,
            "stop_sequence": ["\nUser:"],
            "sampler_order": [6, 0, 2, 5],
            "sampler_seed": 42,
        },
        {"min_p", "dry_multiplier", "grammar", "logit_bias", "mirostat_mode"},
    ),
    "koboldcpp": (
        {
            "min_p": 0.05,
            "mirostat": 2,
            "dry_sequence_breakers": ["\n", ":"],
            "grammar": "root ::= .*",
            "banned_tokens": ["shivers"],
            "dynatemp_range": 0.5,
            "temperature": 1.0,
        },
        {"frequency_penalty", "smoothing_curve"},
    ),
    "horde": (
        {"max_length": 100, "rep_pen_slope": 0.7, "dynatemp_range": 0.5},
        {"seed", "grammar", "logit_bias", "dry_multiplier", "banned_tokens"},
    ),
    "ooba": (
        {
            "dynamic_temperature": True,
            "dynatemp_low": 0.5,
            "grammar_string": "root ::= .*",
            "banned_strings": ["shivers"],
            "dry_sequence_breakers": '["\\n", ":"]',
            "sampler_priority": ["repetition_penalty", "top_k", "top_p", "temperature"],
            "smoothing_curve": 1.0,
        },
        {"repetition_penalty_slope"},
    ),
    "tabby": (
        {
            "min_temp": 0.5,
            "max_temp": 1.5,
            "penalty_range": 1024,
            "repetition_decay": 0.7,
            "typical": 0.9,
            "banned_strings": ["shivers"],
        },
        {"smoothing_curve", "sampler_order"},
    ),
    "vllm": (
        {"max_tokens": 100, "min_p": 0.05, "seed": 42, "logit_bias": {"123": -2.0}},
        {"top_a", "tfs", "dry_multiplier", "xtc_threshold", "grammar", "banned_tokens"},
    ),
    "mancer": (
        {
            "dynatemp_mode": 1,
            "dynatemp_min": 0.5,
            "dynatemp_max": 1.5,
            "dynatemp_exponent": 1.0,
            "top_a": 0.1,
            "repetition_penalty": 1.1,
        },
        {"logit_bias", "grammar", "dry_multiplier"},
    ),
    "dreamgen": (
        {"max_tokens": 100, "min_p": 0.05},
        {"seed", "logit_bias", "top_a", "mirostat_mode"},
    ),
    "llamacpp": (
        {
            "n_predict": 100,
            "repeat_penalty": 1.1,
            "repeat_last_n": 1024,
            "tfs_z": 0.95,
            "samplers": ["penalties", "top_k", "top_p", "temperature"],
            "mirostat": 2,
            "logit_bias": [[123, -2.0], ["shivers", False]],
            "dynatemp_range": 0.5,
        },
        {"top_a", "smoothing_factor", "repetition_penalty_slope"},
    ),
    "ollama": (
        {"num_predict": 100, "tfs_z": 0.95, "repeat_last_n": 1024, "mirostat": 2},
        {"dry_multiplier", "grammar", "logit_bias", "banned_tokens", "top_a", "sampler_order"},
    ),
    "novelai": (
        {
            "max_length": 100,
            "tail_free_sampling": 0.95,
            "mirostat_lr": 0.1,
            "repetition_penalty_frequency": 0.2,
            "order": [1, 2, 0],
        },
        {"grammar", "seed", "dry_multiplier", "smoothing_factor", "xtc_threshold"},
    ),
    "generic": (
        {"max_tokens": 100, "top_p": 0.95, "presence_penalty": 0.3, "seed": 42},
        {"top_k", "min_p", "repetition_penalty", "grammar", "banned_tokens", "sampler_order"},
    ),
    "huggingface": (
        {"max_tokens": 100, "top_p": 0.95, "repetition_penalty": 1.1, "frequency_penalty": 0.2},
        {"presence_penalty", "logit_bias", "top_k", "min_p", "grammar", "banned_tokens"},
    ),
    "aphrodite": (
        {
            "dynatemp_min": 0.5,
            "dynatemp_max": 1.5,
            "dynatemp_exponent": 1.0,
            "dry_range": 0,
            "dry_sequence_breakers": ["\n", ":"],
            "guided_grammar": "root ::= .*",
            "smoothing_curve": 1.0,
            "seed": 42,
            "top_a": 0.1,
        },
        {"mirostat_mode", "repetition_penalty_range", "sampler_order"},
    ),
}

TOKENIZED = {"novelai": {"stop": "stop_sequences", "banned_tokens": "bad_words_ids"}}
"""Fields a backend takes as token ids: supported, but encoded by the provider (with the
model's tokenizer, see test_novelai_tokens.py), so the mapping never sends them raw."""


def test_every_backend_is_in_the_table() -> None:
    assert set(TABLE) == set(backends())


@pytest.mark.parametrize("backend", sorted(TABLE))
def test_mapping(backend: str) -> None:
    sent, left_out = TABLE[backend]
    params = map_samplers(backend, EVERYTHING)
    for name, value in sent.items():
        assert params[name] == value, name
    supported = supported_samplers(backend)
    assert not left_out & supported
    assert set(unsupported_set_fields(backend, EVERYTHING)) >= left_out
    for field in left_out:
        assert field not in params  # no field leaks through under its own name


def test_tokenized_fields_are_supported_but_left_to_the_provider() -> None:
    params = map_samplers("novelai", EVERYTHING)
    supported = supported_samplers("novelai")
    for field, wire_name in TOKENIZED["novelai"].items():
        assert field in supported and field not in params and wire_name not in params
    assert "logit_bias" in supported and not {"logit_bias", "logit_bias_exp"} & set(params)


@pytest.mark.parametrize("backend", sorted(TABLE))
def test_nothing_set_sends_nothing(backend: str) -> None:
    assert map_samplers(backend, SamplerSettings()) == {}


def test_chatml() -> None:
    messages = (ChatMessage("system", "Be kind."), ChatMessage("user", "Hi", name="Ann"))
    assert chatml_prompt(messages, "Well,") == (
        "<|im_start|>system\nBe kind.<|im_end|>\n"
        "<|im_start|>user\nAnn: Hi<|im_end|>\n"
        "<|im_start|>assistant\nWell,"
    )
    req = GenerationRequest(messages=messages, sampling=SamplerSettings(stop=["X"]))
    assert prompt_and_stops(req)[1] == ["X", "<|im_end|>"]
    built = GenerationRequest(messages=messages, prompt="P", sampling=SamplerSettings(stop=["X"]))
    assert prompt_and_stops(built) == ("P", ["X"])


def test_set_fields_is_what_model_dump_gives_without_nones() -> None:
    """Every field set, and each copied: ``set_fields`` reads the fields directly."""
    values: dict[str, object] = {}
    for index, (name, field) in enumerate(SamplerSettings.model_fields.items()):
        shown = str(field.annotation)
        if "list" in shown:
            values[name] = [f"s{index}"]
        elif "dict" in shown:
            values[name] = {str(index): float(index)}
        elif "str" in shown:
            values[name] = f"s{index}"
        elif "int" in shown:
            values[name] = index
        else:
            values[name] = index + 0.5
    settings = SamplerSettings.model_validate(values)
    fields = settings.set_fields()
    assert fields == {k: v for k, v in settings.model_dump().items() if v is not None}
    assert len(fields) == len(SamplerSettings.model_fields)
    fields["stop"].append("x")  # type: ignore[attr-defined]
    assert settings.stop == values["stop"]
    assert SamplerSettings(temperature=0.5).set_fields() == {"temperature": 0.5}
