"""``pytavern settings``: show and change the generation settings (instruct on/off, system
prompt preset, samplers...), the same ones as ``PATCH /api/settings`` and the settings panel."""

from __future__ import annotations

import json
from typing import Any

import click

from pytavern.cli._common import data_dir_option, open_services, print_json, run_async
from pytavern.errors import ConfigError


@click.group("settings")
@data_dir_option
def settings_group() -> None:
    """Generation settings: templates, instruct mode, system prompt, samplers."""


@settings_group.command("show")
@data_dir_option
@run_async
async def show_settings() -> None:
    """Print the settings as JSON."""
    async with open_services() as services:
        preferences = services.preferences.get()
    print_json(preferences.model_dump(mode="json", exclude_none=True))


@settings_group.command("set")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@data_dir_option
@run_async
async def set_settings(pairs: tuple[str, ...]) -> None:
    """Change settings, e.g. ``instruct_enabled=true`` or ``sampling.temperature=0.8``
    (values are JSON, else text; ``null`` resets one)."""
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, value = parse_pair(pair)
        *parents, last = key.split(".")
        target = changes
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    async with open_services() as services:
        preferences = services.preferences.change(changes)
    print_json(preferences.model_dump(mode="json", exclude_none=True))


@settings_group.command("load-sampler-preset")
@click.argument("name")
@data_dir_option
@run_async
async def load_sampler_preset(name: str) -> None:
    """Load a stored sampler preset (an imported SillyTavern preset file) as the samplers."""
    async with open_services() as services:
        preferences = services.preferences.load_sampler_preset(name)
    click.echo(f"loaded sampler preset {name!r}")
    print_json(preferences.sampling.model_dump(mode="json", exclude_none=True))


def parse_pair(pair: str) -> tuple[str, Any]:
    """``key=value`` with the value read as JSON when it is JSON, else as text."""
    key, sep, raw = pair.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"{pair!r} is not KEY=VALUE",
            hint="For example: pytavern settings set instruct_enabled=true",
        )
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value
