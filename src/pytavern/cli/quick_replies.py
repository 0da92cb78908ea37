"""``pytavern quick-replies``: SillyTavern quick-reply sets in and out."""

from __future__ import annotations

from pathlib import Path

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.cli.library import IN_FILE, OUT_FILE, read_input, write_output


@click.group("quick-replies")
@data_dir_option
def quick_replies_group() -> None:
    """Quick-reply sets (SillyTavern's Quick Reply extension files)."""


@quick_replies_group.command("import")
@click.argument("file", type=IN_FILE)
@data_dir_option
@json_option
@run_async
async def import_set(file: Path, as_json: bool) -> None:
    """Import a quick-reply set (its buttons show above the input)."""
    data = read_input(file)
    async with open_services() as services:
        reply_set = services.quick_replies.import_bytes(data)
    if as_json:
        print_json({"name": reply_set.name, "replies": len(reply_set.replies)})
    else:
        click.echo(f"imported {reply_set.name!r} ({len(reply_set.replies)} quick replies)")


@quick_replies_group.command("list")
@data_dir_option
@json_option
@run_async
async def list_sets(as_json: bool) -> None:
    """List the sets and their buttons."""
    async with open_services() as services:
        sets = services.quick_replies.all()
    if as_json:
        print_json(sets)
        return
    for reply_set in sets:
        state = "shown" if reply_set["active"] else "hidden"
        labels = ", ".join(r["label"] for r in reply_set["replies"])
        click.echo(f"{reply_set['name']} ({state}): {labels}")


@quick_replies_group.command("export")
@click.argument("name")
@click.option("--out", required=True, type=OUT_FILE)
@data_dir_option
@run_async
async def export_set(name: str, out: Path) -> None:
    """Export a set as a SillyTavern quick-reply file."""
    async with open_services() as services:
        data = services.quick_replies.export(name)
    write_output(out, data)
    click.echo(f"wrote {out}")
