"""Helpers shared by ``send`` and ``chat``: finding the chat, streaming a turn."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

import click

from pytavern.engine import Engine, GenerationMode
from pytavern.errors import NotFoundError
from pytavern.events import (
    Accumulator,
    ErrorEvent,
    Finished,
    ReasoningDelta,
    StatusEvent,
    TextDelta,
    UsageEvent,
)
from pytavern.store import CharacterRecord, ChatRecord


def find_character(engine: Engine, name: str | None) -> CharacterRecord:
    """The named character, or the first one (the default character on a fresh install)."""
    if name:
        return engine.store.find_character(name)
    characters = sorted(engine.store.list_characters(), key=lambda c: c.id)
    if not characters:
        raise NotFoundError(
            "there are no characters", hint="Import one with `pytavern characters import FILE`"
        )
    return characters[0]


def resolve_chat(
    engine: Engine, *, character: str | None, chat_id: int | None, new: bool
) -> ChatRecord:
    """The chat to talk in: ``chat_id``, a new chat, or the character's latest one."""
    if chat_id is not None:
        return engine.store.get_chat(chat_id)
    record = find_character(engine, character)
    latest = None if new else engine.store.latest_chat(record.id)
    return latest or engine.start_chat(record.id)


@dataclass
class TurnOutcome:
    """What a streamed turn produced."""

    accumulator: Accumulator = field(default_factory=Accumulator)
    error: ErrorEvent | None = None
    finished: Finished | None = None


async def stream_turn(
    engine: Engine,
    chat_id: int,
    mode: GenerationMode,
    text: str | None,
    *,
    connection: str | None,
    out: TextIO | None,
) -> TurnOutcome:
    """Run one turn, writing text to ``out`` as it arrives and status lines to stderr."""
    outcome = TurnOutcome()
    async for event in engine.generate(chat_id, mode, text, connection=connection):
        outcome.accumulator.feed(event)
        match event:
            case TextDelta(text=piece) if out is not None:
                out.write(piece)
                out.flush()
            case StatusEvent(message=message):
                click.echo(f"[{message}]", err=True)
            case ErrorEvent():
                outcome.error = event
            case Finished():
                outcome.finished = event
            case TextDelta() | ReasoningDelta() | UsageEvent():
                pass
    return outcome


def error_line(error: ErrorEvent) -> str:
    """One line for a person: what happened, then what to do."""
    return f"error: {error.message}" + (f". {error.hint}" if error.hint else "")


def stdout() -> TextIO:
    """The stream replies are written to."""
    return sys.stdout
