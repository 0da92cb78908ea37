"""Helpers shared by ``send`` and ``chat``: finding the chat, streaming a turn."""

from __future__ import annotations

import sys
from typing import TextIO

import click

from pytavern.engine.services import ChatRecord, GenerationMode, Services, TurnResult
from pytavern.events import ErrorEvent, StatusEvent, TextDelta


def resolve_chat(
    services: Services, *, character: str | None, chat_id: int | None, new: bool
) -> ChatRecord:
    """The chat to talk in: ``chat_id``, a new chat, or the character's latest one."""
    if chat_id is not None:
        return services.chats.get(chat_id)
    record = services.characters.pick(character)
    latest = None if new else services.chats.latest(record.id)
    return latest or services.chats.start(record.id)


async def stream_turn(
    services: Services,
    chat_id: int,
    mode: GenerationMode,
    text: str | None,
    *,
    connection: str | None,
    out: TextIO | None,
) -> TurnResult:
    """Run one turn, writing text to ``out`` as it arrives and status lines to stderr."""
    result = TurnResult(chat_id)
    async for event in services.generation.stream(chat_id, mode, text, connection=connection):
        result.feed(event)
        if isinstance(event, TextDelta) and out is not None:
            out.write(event.text)
            out.flush()
        elif isinstance(event, StatusEvent):
            click.echo(f"[{event.message}]", err=True)
    return result


async def stream_group_turn(
    services: Services, group: str, text: str | None, connection: str | None
) -> ErrorEvent | None:
    """Run a group turn, writing each member's reply to stdout after its name as it
    arrives (``Name: text``, a line each); the error that ended it, if one did."""
    out, error, speaking = stdout(), None, False
    async for event in services.groups.events(group, "send", text=text, connection=connection):
        if isinstance(event, StatusEvent) and event.speaker is not None:
            if speaking:
                out.write("\n")  # the previous member's reply ends
            out.write(f"{event.speaker}: ")
            speaking = True
        elif isinstance(event, StatusEvent):
            click.echo(f"[{event.message}]", err=True)
        elif isinstance(event, TextDelta):
            out.write(event.text)
        elif isinstance(event, ErrorEvent):
            error = event
        out.flush()
    if speaking:
        out.write("\n")
    else:
        click.echo("(nobody answered: the group waits for you to pick a member)")
    return error


def error_line(error: ErrorEvent) -> str:
    """One line for a person: what happened, then what to do."""
    return f"error: {error.message}" + (f". {error.hint}" if error.hint else "")


def stdout() -> TextIO:
    """The stream replies are written to."""
    return sys.stdout
