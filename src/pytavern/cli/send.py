"""``pytavern send``: one scriptable turn."""

from __future__ import annotations

import sys

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.cli._turns import error_line, resolve_chat, stdout, stream_turn


@click.command("send")
@click.argument("text")
@click.option("--character", help="Character name (default: the first character).")
@click.option("--connection", help="Connection name (default: the default connection).")
@click.option("--chat", "chat_id", type=int, help="Continue this chat.")
@click.option("--new", is_flag=True, help="Start a new chat.")
@data_dir_option
@json_option
@run_async
async def send_command(
    text: str,
    character: str | None,
    connection: str | None,
    chat_id: int | None,
    new: bool,
    as_json: bool,
) -> None:
    """Send TEXT and stream the reply (to the character's latest chat unless told)."""
    if chat_id is not None and new:
        raise click.UsageError("give --chat or --new, not both")
    async with open_services() as services:
        chat = resolve_chat(services, character=character, chat_id=chat_id, new=new)
        outcome = await stream_turn(
            services,
            chat.id,
            "send",
            text,
            connection=connection,
            out=None if as_json else stdout(),
        )
        connection_name = services.connections.default_name(connection)
    if as_json:
        print_json(
            {
                "chat_id": chat.id,
                "reply": outcome.reply,
                "finish_reason": outcome.finish_reason,
                "usage": outcome.usage.to_dict(),
                "connection": outcome.connection or connection_name,
                "model": outcome.model,
                "error": None
                if outcome.error is None
                else {"message": outcome.error.message, "hint": outcome.error.hint},
            }
        )
    else:
        click.echo()
        if outcome.error is not None:
            click.echo(error_line(outcome.error), err=True)
    if outcome.error is not None:
        sys.exit(1)
