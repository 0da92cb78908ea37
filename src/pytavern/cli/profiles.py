"""``pytavern profiles``: named connection + model + presets, chosen per chat."""

from __future__ import annotations

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async


@click.group("profiles")
@data_dir_option
def profiles_group() -> None:
    """Manage connection profiles (connection, model and presets, chosen per chat)."""


@profiles_group.command("add")
@click.argument("name")
@click.option("--connection", required=True, help="The connection the profile uses.")
@click.option("--model", help="A model instead of the connection's own.")
@click.option("--sampler", "sampler_preset", help="A sampler preset's name.")
@click.option("--instruct", "instruct_template", help="An instruct template's name.")
@click.option("--context", "context_template", help="A context template's name.")
@click.option("--sysprompt", "system_prompt", help="A system-prompt preset's name.")
@data_dir_option
@json_option
@run_async
async def add_command(name: str, as_json: bool, **settings: str | None) -> None:
    """Save profile NAME (replacing one of that name)."""
    async with open_services() as services:
        profile = services.profiles.save({"name": name, **settings})
    if as_json:
        print_json(profile.model_dump())
    else:
        click.echo(f"saved profile {name!r} ({profile.connection})")


@profiles_group.command("list")
@data_dir_option
@json_option
@run_async
async def list_command(as_json: bool) -> None:
    """List the profiles."""
    async with open_services() as services:
        profiles = services.profiles.all()
    if as_json:
        print_json([profile.model_dump() for profile in profiles])
        return
    for profile in profiles:
        presets = [
            f"{label} {value}"
            for label, value in (
                ("sampler", profile.sampler_preset),
                ("instruct", profile.instruct_template),
                ("context", profile.context_template),
                ("sysprompt", profile.system_prompt),
            )
            if value
        ]
        model = f" · {profile.model}" if profile.model else ""
        click.echo(f"{profile.name:<16} {profile.connection}{model}  {', '.join(presets)}")


@profiles_group.command("remove")
@click.argument("name")
@data_dir_option
@run_async
async def remove_command(name: str) -> None:
    """Delete profile NAME."""
    async with open_services() as services:
        services.profiles.remove(name)
    click.echo(f"removed profile {name!r}")


@profiles_group.command("use")
@click.argument("name", required=False)
@click.option("--chat", "chat_id", type=int, required=True, help="The chat to switch.")
@data_dir_option
@run_async
async def use_command(name: str | None, chat_id: int) -> None:
    """Make a chat use profile NAME from its next turn (no NAME: the defaults again)."""
    async with open_services() as services:
        services.profiles.use(chat_id, name)
    click.echo(f"chat {chat_id} uses {'profile ' + repr(name) if name else 'the defaults'}")
