"""The ``pytavern`` command line: thin commands over the engine."""

# ruff: noqa: E402  (the imports below run with garbage collection paused)

from __future__ import annotations

import gc

# The command modules import the engine, SQLAlchemy and FastAPI: a few hundred thousand
# objects, and the collections they set off took ~0.15 s of a start. None is garbage, so
# they are frozen (left out of every later collection) before collection resumes: the
# first collection after it would otherwise walk all of them (~30 ms of every command).
_collecting = gc.isenabled()
gc.disable()

import click

from pytavern import __version__
from pytavern.cli._common import data_dir_option
from pytavern.cli.chat import chat_command
from pytavern.cli.connections import connections_group
from pytavern.cli.data import DATA_COMMANDS
from pytavern.cli.databank import databank_group
from pytavern.cli.groups import groups_group
from pytavern.cli.library import characters_group, chats_group, lorebooks_group
from pytavern.cli.profiles import profiles_group
from pytavern.cli.quick_replies import quick_replies_group
from pytavern.cli.regex import regex_group
from pytavern.cli.search import search_command
from pytavern.cli.send import send_command
from pytavern.cli.serve import serve_command
from pytavern.cli.settings_cmd import settings_group
from pytavern.cli.summaries import summarize_command, summary_command
from pytavern.cli.usage import usage_command
from pytavern.cli.users import users_group

gc.freeze()
if _collecting:
    gc.enable()


@click.group("pytavern", invoke_without_command=True)
@click.version_option(__version__, prog_name="pytavern")
@data_dir_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """pytavern: chat with characters through any LLM backend, or the built-in model."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(serve_command)


cli.add_command(chat_command)
cli.add_command(send_command)
cli.add_command(serve_command)
cli.add_command(connections_group)
cli.add_command(users_group)
cli.add_command(characters_group)
cli.add_command(chats_group)
chats_group.add_command(summary_command)
chats_group.add_command(summarize_command)
cli.add_command(lorebooks_group)
cli.add_command(groups_group)
cli.add_command(regex_group)
cli.add_command(search_command)
cli.add_command(databank_group)
cli.add_command(quick_replies_group)
cli.add_command(settings_group)
cli.add_command(usage_command)
cli.add_command(profiles_group)
for _command in DATA_COMMANDS:
    cli.add_command(_command)


def main() -> None:
    """Run the pytavern command line."""
    cli()
