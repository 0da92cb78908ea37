"""SillyTavern's sampler preset files, and its default samplers per API family.

The files in tests/golden/st_presets are SillyTavern 1.12.6's own (AGPL-3.0, as pytavern):
a textgen and a kobold preset, the OpenAI default preset and the first-run text-generation
settings of its default settings.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pytavern.cli import cli
from pytavern.engine import Engine
from pytavern.engine.preferences import load_preferences
from pytavern.engine.sampler_defaults import (
    family_defaults,
    openai_default,
    recovered_ruins,
    sampling_from_preset,
    textgen_default,
)
from pytavern.engine.services import Services
from pytavern.errors import FormatError, NotFoundError
from pytavern.settings import Settings

PRESETS = Path(__file__).parent.parent / "golden/st_presets"


def _preset(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PRESETS / f"{name}.json").read_text())
    return data


def test_text_defaults_are_sillytaverns_first_run_settings() -> None:
    first_run = sampling_from_preset(_preset("settings-textgenerationwebui_settings"))
    for field, value in first_run.set_fields().items():
        assert getattr(textgen_default(), field) == value, field
    assert family_defaults("koboldcpp", "text").sampler_order == [
        "repetition_penalty", "top_k", "top_a", "tfs", "typical_p", "top_p", "temperature"
    ]  # fmt: skip


def test_kobold_classic_and_chat_defaults_are_sillytaverns_presets() -> None:
    assert sampling_from_preset(_preset("kobold-RecoveredRuins")) == recovered_ruins()
    assert family_defaults("kobold", "text") == recovered_ruins()
    openai = sampling_from_preset(_preset("openai-Default"))
    assert (
        openai.model_dump(include=set(openai_default().set_fields()))
        == openai_default().set_fields()
    )
    assert family_defaults("openai", "chat") == openai_default()


def test_a_textgen_preset_file_reads_every_sampler_it_sets() -> None:
    sampling = sampling_from_preset(_preset("textgen-Universal-Creative"))
    assert (sampling.temperature, sampling.min_p, sampling.top_p) == (1.5, 0.1, 1.0)
    assert sampling.dry_sequence_breakers == ["\n", ":", '"', "*"]
    assert sampling.sampler_order and sampling.sampler_order[0] == "temperature"
    assert sampling.seed is None  # SillyTavern's -1 is "random": not sent


def test_invalid_preset_values_are_a_clear_error() -> None:
    with pytest.raises(FormatError, match="'bad' has invalid values") as info:
        sampling_from_preset({"temp": 1, "top_k": 1.5, "rep_pen_range": float("inf")}, "bad")
    assert info.value.hint


async def test_loading_an_imported_preset_replaces_the_samplers(data_dir: Path) -> None:
    engine = Engine.open(Settings(data_dir=data_dir))
    services = Services(engine)
    services.preferences.change({"sampling": {"max_tokens": 256, "temperature": 0.2, "seed": 7}})
    services.presets.save("sampler", "Universal-Creative", _preset("textgen-Universal-Creative"))
    preferences = services.preferences.load_sampler_preset("Universal-Creative")
    assert preferences.sampler_preset == "Universal-Creative"
    assert preferences.sampling.temperature == 1.5 and preferences.sampling.seed is None
    assert preferences.sampling.max_tokens == 256  # the preset has no reply length
    assert load_preferences(engine.store) == preferences
    with pytest.raises(NotFoundError) as info:
        services.preferences.load_sampler_preset("Missing")
    assert info.value.hint
    await engine.aclose()


def test_cli_sets_instruct_mode_and_samplers(data_dir: Path) -> None:
    runner = CliRunner()
    args = [
        "settings",
        "set",
        "instruct_enabled=true",
        "sampling.top_k=20",
        "system_prompt_preset=Actor",
    ]
    result = runner.invoke(cli, [*args, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    shown = json.loads(runner.invoke(cli, ["settings", "show", "--data-dir", str(data_dir)]).output)
    assert shown["instruct_enabled"] is True and shown["sampling"]["top_k"] == 20
    assert shown["system_prompt_preset"] == "Actor"
    bad = runner.invoke(cli, ["settings", "set", "context_size=12", "--data-dir", str(data_dir)])
    assert bad.exit_code != 0 and "context_size" in bad.output
