"""``pytavern chats summary | summarize``: a chat's summary (SillyTavern's Summarize)."""

from __future__ import annotations

import sys

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.cli._turns import error_line, stdout, stream_turn
from pytavern.engine.chat_options import ChatOptions


@click.command("summary")
@click.argument("chat_id", type=int)
@click.option("--set", "text", help="Replace the summary with TEXT.")
@click.option("--clear", is_flag=True, help="Remove the summary.")
@data_dir_option
@json_option
@run_async
async def summary_command(chat_id: int, text: str | None, clear: bool, as_json: bool) -> None:
    """Show a chat's summary, or change it (--set TEXT, --clear)."""
    if text is not None and clear:
        raise click.UsageError("give --set or --clear, not both")
    async with open_services() as services:
        if text is not None or clear:
            services.chats.set_options(chat_id, ChatOptions(summary="" if clear else text))
        options = services.chats.options(chat_id)
    if as_json:
        print_json({"chat_id": chat_id, "summary": options["summary"]})
    else:
        click.echo(options["summary"] or "(no summary)")


@click.command("summarize")
@click.argument("chat_id", type=int)
@click.option("--connection", help="Connection name (default: the default connection).")
@data_dir_option
@json_option
@run_async
async def summarize_command(chat_id: int, connection: str | None, as_json: bool) -> None:
    """Make a new summary of a chat so far and keep it (printed as it arrives)."""
    async with open_services() as services:
        outcome = await stream_turn(
            services,
            chat_id,
            "summarize",
            None,
            connection=connection,
            out=None if as_json else stdout(),
        )
        summary = services.chats.options(chat_id)["summary"]
    if as_json:
        error = outcome.error
        print_json(
            {
                "chat_id": chat_id,
                "summary": summary,
                "saved": bool(outcome.finished and outcome.finished.extra.get("summary_saved")),
                "error": None if error is None else {"message": error.message, "hint": error.hint},
            }
        )
    else:
        click.echo()
        if outcome.error is not None:
            click.echo(error_line(outcome.error) + " (the summary there was is kept)", err=True)
    if outcome.error is not None:
        sys.exit(1)
