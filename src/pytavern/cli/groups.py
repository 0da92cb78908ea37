"""``pytavern groups``: group chats (several characters in one chat)."""

from __future__ import annotations

from pathlib import Path

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.cli.library import IN_FILE, OUT_FILE, read_input, write_output
from pytavern.engine.services import GroupView

STRATEGIES = click.Choice(["natural", "list", "manual", "pooled"])
MODES = click.Choice(["swap", "join", "join-muted"])


def _describe(group: GroupView) -> str:
    members = ", ".join(m.name + (" (muted)" if m.muted else "") for m in group.members)
    return (
        f"{group.name} (id {group.id}, chat {group.chat_id}): {members}; "
        f"{group.activation_strategy} order, {group.generation_mode} cards"
    )


@click.group("groups")
@data_dir_option
def groups_group() -> None:
    """Group chats: several characters answering in one chat (SillyTavern groups)."""


@groups_group.command("create")
@click.argument("name")
@click.option("--member", "members", multiple=True, required=True, help="A character (repeat).")
@click.option("--strategy", type=STRATEGIES, default="natural", show_default=True)
@data_dir_option
@json_option
@run_async
async def create_group(name: str, members: tuple[str, ...], strategy: str, as_json: bool) -> None:
    """Create group NAME of the given characters, with a new chat."""
    async with open_services() as services:
        group = services.groups.create(name, list(members), strategy=strategy)
    print_json(group.to_dict()) if as_json else click.echo(f"created {_describe(group)}")


@groups_group.command("list")
@data_dir_option
@json_option
@run_async
async def list_groups(as_json: bool) -> None:
    """List the groups."""
    async with open_services() as services:
        groups = services.groups.all()
    if as_json:
        print_json([g.to_dict() for g in groups])
    else:
        for group in groups:
            click.echo(_describe(group))


@groups_group.command("edit")
@click.argument("name")
@click.option("--rename", help="A new name.")
@click.option("--add", multiple=True, help="Add a member (repeat).")
@click.option("--remove", multiple=True, help="Remove a member (repeat).")
@click.option("--mute", multiple=True, help="Mute a member: it answers only when asked.")
@click.option("--unmute", multiple=True, help="Unmute a member.")
@click.option("--strategy", type=STRATEGIES, help="Who answers: activation strategy.")
@click.option("--cards", "mode", type=MODES, help="Swap cards, or join the members' cards.")
@click.option(
    "--self-responses/--no-self-responses", default=None, help="May a member answer itself."
)
@click.option("--auto-delay", type=int, help="Seconds between auto-mode turns.")
@data_dir_option
@json_option
@run_async
async def edit_group(
    name: str,
    rename: str | None,
    add: tuple[str, ...],
    remove: tuple[str, ...],
    mute: tuple[str, ...],
    unmute: tuple[str, ...],
    strategy: str | None,
    mode: str | None,
    self_responses: bool | None,
    auto_delay: int | None,
    as_json: bool,
) -> None:
    """Change group NAME's members and settings."""
    async with open_services() as services:
        group = services.groups.update(
            name,
            name=rename,
            add=list(add),
            remove=list(remove),
            mute=list(mute),
            unmute=list(unmute),
            strategy=strategy,
            generation_mode=mode,
            allow_self_responses=self_responses,
            auto_mode_delay=auto_delay,
        )
    print_json(group.to_dict()) if as_json else click.echo(_describe(group))


@groups_group.command("delete")
@click.argument("name")
@data_dir_option
@run_async
async def delete_group(name: str) -> None:
    """Delete group NAME (its chat stays, as a chat of its first member)."""
    async with open_services() as services:
        services.groups.delete(name)
    click.echo(f"deleted {name!r}")


@groups_group.command("import")
@click.argument("file", type=IN_FILE)
@click.option("--chat", "chat_file", type=IN_FILE, help="The group's chat (.jsonl).")
@data_dir_option
@json_option
@run_async
async def import_group(file: Path, chat_file: Path | None, as_json: bool) -> None:
    """Import a SillyTavern group (groups/<id>.json) and its chat.

    Without --chat, the chat is looked for where SillyTavern keeps it
    (``../group chats/<chat_id>.jsonl``); the members must be imported characters."""
    async with open_services() as services:
        chat = chat_file or services.groups.find_chat_file(file)
        group = services.groups.import_files(
            read_input(file), file.name, read_input(chat) if chat else None
        )
    print_json(group.to_dict()) if as_json else click.echo(f"imported {_describe(group)}")


@groups_group.command("export")
@click.argument("name")
@click.option("--out", required=True, type=OUT_FILE, help="The group .json file.")
@click.option("--chat-out", type=OUT_FILE, help="The chat .jsonl (default: beside --out).")
@data_dir_option
@run_async
async def export_group(name: str, out: Path, chat_out: Path | None) -> None:
    """Export group NAME as SillyTavern group JSON and its chat as JSONL."""
    async with open_services() as services:
        group_json, chat_jsonl = services.groups.export_files(name)
    write_output(out, group_json)
    click.echo(f"wrote {out}")
    if chat_jsonl is not None:
        target = chat_out or out.with_suffix(".jsonl")
        write_output(target, chat_jsonl)
        click.echo(f"wrote {target}")
