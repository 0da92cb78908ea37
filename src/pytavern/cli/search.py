"""``pytavern search TEXT``: find messages across every chat."""

from __future__ import annotations

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async


@click.command("search")
@click.argument("text")
@click.option("--character", help="Search only this character's chats.")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@data_dir_option
@json_option
@run_async
async def search_command(text: str, character: str | None, limit: int, as_json: bool) -> None:
    """Find the messages holding every word of TEXT, newest first."""
    async with open_services() as services:
        character_id = services.characters.find(character).id if character else None
        hits = services.search.public(text, character_id=character_id, limit=limit)
    if as_json:
        print_json(hits)
        return
    if not hits:
        click.echo("no messages found")
    for hit in hits:
        who = hit["name"] or ("You" if hit["role"] == "user" else hit["character_name"])
        click.echo(f"chat {hit['chat_id']} #{hit['position']}  {who}: {hit['snippet']}")
