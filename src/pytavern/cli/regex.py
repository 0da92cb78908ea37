"""``pytavern regex``: SillyTavern regex scripts in and out, listed by scope."""

from __future__ import annotations

from pathlib import Path

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.cli.library import IN_FILE, OUT_FILE, read_input, write_output
from pytavern.engine.services import Services

_CHARACTER = click.option("--character", help="A character's own scripts (kept in its card).")
_PRESET = click.option("--preset", help="A stored sampler preset's scripts.")


@click.group("regex")
@data_dir_option
def regex_group() -> None:
    """Regex scripts (SillyTavern's Regex extension files)."""


def _character_id(services: Services, character: str | None) -> int | None:
    return services.characters.find(character).id if character is not None else None


@regex_group.command("import")
@click.argument("file", type=IN_FILE)
@_CHARACTER
@_PRESET
@data_dir_option
@json_option
@run_async
async def import_regex(
    file: Path, character: str | None, preset: str | None, as_json: bool
) -> None:
    """Import a regex script file (global unless --character or --preset).

    A character's imported scripts are allowed to run; a preset's become the active ones.
    """
    data = read_input(file)
    async with open_services() as services:
        character_id = _character_id(services, character)
        scripts = services.regex.import_bytes(data, character_id=character_id, preset=preset)
    if as_json:
        print_json([script.to_dict() for script in scripts])
    else:
        for script in scripts:
            click.echo(f"imported {script.name!r} ({script.id})")


@regex_group.command("list")
@_CHARACTER
@data_dir_option
@json_option
@run_async
async def list_regex(character: str | None, as_json: bool) -> None:
    """List the scripts in play, in the order they run."""
    async with open_services() as services:
        found = services.regex.all(_character_id(services, character))
    if as_json:
        print_json([item.to_dict() for item in found])
        return
    for item in found:
        script = item.script
        state = "off" if script.disabled or not item.allowed else "on"
        where = ",".join(str(p) for p in script.placement)
        click.echo(f"{item.scope:<9} {state:<3} {script.name}  {script.find}  (placement {where})")


@regex_group.command("export")
@click.option("--out", required=True, type=OUT_FILE)
@_CHARACTER
@_PRESET
@data_dir_option
@run_async
async def export_regex(out: Path, character: str | None, preset: str | None) -> None:
    """Export one scope's scripts as a SillyTavern regex file."""
    async with open_services() as services:
        data = services.regex.export(_character_id(services, character), preset)
    write_output(out, data)
    click.echo(f"wrote {out}")


@regex_group.command("allow")
@click.argument("character")
@click.option("--off", is_flag=True, help="Stop the character's scripts instead.")
@data_dir_option
@run_async
async def allow_regex(character: str, off: bool) -> None:
    """Let a character's own scripts (from its card) run."""
    async with open_services() as services:
        record = services.characters.find(character)
        services.regex.allow_character(record.id, not off)
    click.echo(f"{record.name}'s scripts {'stopped' if off else 'allowed'}")
