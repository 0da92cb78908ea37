"""``pytavern characters | chats | lorebooks``: import, export and list SillyTavern files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.engine.services import Services
from pytavern.engine.services.library import entry_count
from pytavern.engine.tags import card_tags
from pytavern.errors import FormatError

Rows = list[dict[str, Any]]

MAX_FILE_BYTES = 50 * 1024 * 1024


def read_input(path: Path) -> bytes:
    """Read an input file, refusing huge ones with a clear error."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FormatError(f"{path}: cannot be read ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise FormatError(f"{path}: the file is too large ({size} bytes)")
    return path.read_bytes()


def write_output(path: Path, data: bytes) -> None:
    """Write an exported file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def show_rows(as_json: bool, rows_of: Callable[[Services], Rows], line: str) -> None:
    """Print what ``rows_of`` reads: as JSON, or ``line.format(**row)`` each."""
    async with open_services() as services:
        rows = rows_of(services)
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            click.echo(line.format(**row))


IN_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT_FILE = click.Path(dir_okay=False, path_type=Path)


@click.group("characters")
@data_dir_option
def characters_group() -> None:
    """Character cards (SillyTavern V1/V2/V3, PNG, CharX or JSON)."""


@characters_group.command("import")
@click.argument("file", type=IN_FILE)
@data_dir_option
@json_option
@run_async
async def import_character(file: Path, as_json: bool) -> None:
    """Import a character card."""
    data = read_input(file)
    async with open_services() as services:
        record = services.characters.import_bytes(data, file.name)
    if as_json:
        print_json({"id": record.id, "name": record.name})
    else:
        click.echo(f"imported {record.name!r} (id {record.id})")


@characters_group.command("export")
@click.argument("name")
@click.option("--out", required=True, type=OUT_FILE, help="A .png or .json file.")
@data_dir_option
@run_async
async def export_character(name: str, out: Path) -> None:
    """Export a character card (PNG with its avatar, or JSON, by the file's extension)."""
    async with open_services() as services:
        record = services.characters.find(name)
        card = services.characters.export(record.id, png=out.suffix.lower() == ".png")
    write_output(out, card.data)
    click.echo(f"wrote {out}")


@characters_group.command("list")
@click.option("--tag", help="Only the characters carrying this tag.")
@data_dir_option
@json_option
@run_async
async def list_characters(tag: str | None, as_json: bool) -> None:
    """List the characters."""
    await show_rows(
        as_json, lambda services: character_rows(services, tag), "{id:>5}  {name}  ({chats} chats)"
    )


def character_rows(services: Services, tag: str | None = None) -> Rows:
    """Each character with its number of chats (only those carrying ``tag`` when given)."""
    characters = services.characters
    return [
        {"id": c.id, "name": c.name, "chats": characters.chat_count(c.id)}
        for c in characters.all(tag)
    ]


@characters_group.command("tag")
@click.argument("name")
@click.option("--add", "added", multiple=True, help="A tag to add (repeatable).")
@click.option("--remove", "removed", multiple=True, help="A tag to remove (repeatable).")
@data_dir_option
@json_option
@run_async
async def tag_character(
    name: str, added: tuple[str, ...], removed: tuple[str, ...], as_json: bool
) -> None:
    """Show a character's tags, or add and remove some."""
    async with open_services() as services:
        record = services.characters.find(name)
        current = card_tags(record)
        if added or removed:
            gone = {t.casefold() for t in removed}
            kept = [t for t in current if t.casefold() not in gone]
            record = services.characters.set_tags(record.id, [*kept, *added])
            current = card_tags(record)
    if as_json:
        print_json({"name": record.name, "tags": current})
    else:
        click.echo(f"{record.name}: {', '.join(current) if current else '(no tags)'}")


@click.group("chats")
@data_dir_option
def chats_group() -> None:
    """Chats (SillyTavern JSONL)."""


@chats_group.command("import")
@click.argument("file", type=IN_FILE)
@click.option("--character", required=True, help="The character the chat belongs to.")
@data_dir_option
@json_option
@run_async
async def import_chat(file: Path, character: str, as_json: bool) -> None:
    """Import a SillyTavern chat file for a character."""
    data = read_input(file)
    async with open_services() as services:
        record = services.characters.find(character)
        chat = services.chats.import_bytes(data, file.name, record.id)
    if as_json:
        print_json({"id": chat.id, "messages": chat.message_count})
    else:
        click.echo(f"imported chat {chat.id} ({chat.message_count} messages)")


@chats_group.command("export")
@click.argument("chat_id", type=int)
@click.option("--out", required=True, type=OUT_FILE)
@data_dir_option
@run_async
async def export_chat(chat_id: int, out: Path) -> None:
    """Export a chat as SillyTavern JSONL."""
    async with open_services() as services:
        data = services.chats.export(chat_id)
    write_output(out, data)
    click.echo(f"wrote {out}")


@chats_group.command("list")
@click.option("--character", help="Only this character's chats.")
@data_dir_option
@json_option
@run_async
async def list_chats(character: str | None, as_json: bool) -> None:
    """List chats, newest first."""
    await show_rows(
        as_json,
        lambda services: chat_rows(services, character),
        "{id:>5}  {character:<20} {messages:>5} messages",
    )


def chat_rows(services: Services, character: str | None) -> Rows:
    """The chats (only ``character``'s when given), newest first."""
    owner = services.characters.find(character).id if character else None
    names = {c.id: c.name for c in services.characters.all()}
    return [
        {
            "id": chat.id,
            "character": names.get(chat.character_id, "?"),
            "title": chat.title,
            "messages": chat.message_count,
            "updated_at": chat.updated_at.isoformat(),
        }
        for chat in services.chats.all(owner)
    ]


@click.group("lorebooks")
@data_dir_option
def lorebooks_group() -> None:
    """Lorebooks (SillyTavern World Info JSON)."""


@lorebooks_group.command("import")
@click.argument("file", type=IN_FILE)
@click.option("--name", help="Name to store it under (default: the file name).")
@data_dir_option
@json_option
@run_async
async def import_lorebook(file: Path, name: str | None, as_json: bool) -> None:
    """Import a World Info file."""
    data = read_input(file)
    async with open_services() as services:
        record = services.lorebooks.import_bytes(data, file.name, name)
    entries = entry_count(record.data)
    if as_json:
        print_json({"name": record.name, "entries": entries})
    else:
        click.echo(f"imported lorebook {record.name!r} ({entries} entries)")


@lorebooks_group.command("export")
@click.argument("name")
@click.option("--out", required=True, type=OUT_FILE)
@data_dir_option
@run_async
async def export_lorebook(name: str, out: Path) -> None:
    """Export a lorebook as World Info JSON."""
    async with open_services() as services:
        data = services.lorebooks.export(name)
    write_output(out, data)
    click.echo(f"wrote {out}")


@lorebooks_group.command("list")
@data_dir_option
@json_option
@run_async
async def list_lorebooks(as_json: bool) -> None:
    """List the lorebooks."""
    await show_rows(as_json, lorebook_rows, "{name}  ({entries} entries)")


def lorebook_rows(services: Services) -> Rows:
    """Each lorebook with its number of entries."""
    return [{"name": b.name, "entries": entry_count(b.data)} for b in services.lorebooks.all()]
