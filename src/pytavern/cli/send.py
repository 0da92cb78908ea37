"""``pytavern send``: one scriptable turn."""

from __future__ import annotations

import sys

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.cli._turns import error_line, resolve_chat, stdout, stream_group_turn, stream_turn


@click.command("send")
@click.argument("text")
@click.option("--character", help="Character name (default: the first character).")
@click.option("--connection", help="Connection name (default: the default connection).")
@click.option("--chat", "chat_id", type=int, help="Continue this chat.")
@click.option("--new", is_flag=True, help="Start a new chat.")
@click.option("--group", help="Send to this group's chat: its members answer.")
@data_dir_option
@json_option
@run_async
async def send_command(
    text: str,
    character: str | None,
    connection: str | None,
    chat_id: int | None,
    new: bool,
    group: str | None,
    as_json: bool,
) -> None:
    """Send TEXT and stream the reply (to the character's latest chat unless told)."""
    if chat_id is not None and new:
        raise click.UsageError("give --chat or --new, not both")
    if group is not None:
        if character or chat_id is not None or new:
            raise click.UsageError("--group goes alone (not with --character, --chat or --new)")
        await send_to_group(group, text, connection, as_json)
        return
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
                "summary_due": outcome.summary_due,
                "error": None
                if outcome.error is None
                else {"message": outcome.error.message, "hint": outcome.error.hint},
            }
        )
    else:
        click.echo()
        if outcome.error is not None:
            click.echo(error_line(outcome.error), err=True)
        elif outcome.summary_due:
            click.echo(
                f"[the chat is due a new summary: pytavern chats summarize {chat.id}]", err=True
            )
    if outcome.error is not None:
        sys.exit(1)


async def send_to_group(group: str, text: str, connection: str | None, as_json: bool) -> None:
    """``send --group``: the members the group's strategy picks answer, one after another
    (each reply streamed after its speaker's name; with ``--json``, all at the end)."""
    if not as_json:
        async with open_services() as services:
            error = await stream_group_turn(services, group, text, connection)
        if error is not None:
            click.echo(error_line(error), err=True)
            sys.exit(1)
        return
    async with open_services() as services:
        turn = await services.groups.send(group, text, connection=connection)
        connection_name = services.connections.default_name(connection)
    failed = turn.failed
    last = turn.replies[-1].result if turn.replies else None
    print_json(
        {
            "chat_id": turn.chat_id,
            "group_id": turn.group_id,
            "reply": last.reply if last else "",
            "finish_reason": last.finish_reason if last else None,
            "connection": connection_name,
            "replies": [reply.to_dict() for reply in turn.replies],
            "error": None
            if failed is None or failed.result.error is None
            else {"message": failed.result.error.message, "hint": failed.result.error.hint},
        }
    )
    if failed is not None:
        sys.exit(1)
