"""Which generation runs where: one row per generation, for servers sharing PostgreSQL.

A process writes a row when a generation starts and marks it when it ends; other processes
read the rows to find a chat's running generation or to check who may stop one. The events
themselves never go through the table (see ``pytavern.server.relay_pg``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Engine

KEEP_SECONDS = 3600.0
"""Rows of generations that ended longer ago than this are deleted."""

_metadata = sa.MetaData()
generations = sa.Table(
    "generations",
    _metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner_id", sa.Integer, nullable=False),
    sa.Column("chat_id", sa.Integer, nullable=False),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("started", sa.Float, nullable=False),
    sa.Column("ended", sa.Float, nullable=True),
)


@dataclass(frozen=True, slots=True)
class GenerationRow:
    """One generation as the database knows it."""

    id: str
    owner_id: int
    chat_id: int
    mode: str
    started: float
    ended: float | None


def record_started(
    engine: Engine, generation_id: str, *, owner_id: int, chat_id: int, mode: str, started: float
) -> None:
    """Note a generation that started (and forget long-ended ones)."""
    with engine.begin() as connection:
        connection.execute(
            generations.delete().where(generations.c.ended < time.time() - KEEP_SECONDS)
        )
        connection.execute(
            generations.insert().values(
                id=generation_id, owner_id=owner_id, chat_id=chat_id, mode=mode, started=started
            )
        )


def record_ended(engine: Engine, generation_id: str) -> None:
    """Note that a generation ended."""
    with engine.begin() as connection:
        connection.execute(
            generations.update().where(generations.c.id == generation_id).values(ended=time.time())
        )


def find_generation(engine: Engine, generation_id: str, owner_id: int) -> GenerationRow | None:
    """The generation with this id if it belongs to ``owner_id``."""
    query = generations.select().where(
        generations.c.id == generation_id, generations.c.owner_id == owner_id
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else GenerationRow(*row)


def running_in_chat(engine: Engine, chat_id: int, owner_id: int) -> GenerationRow | None:
    """The newest generation still running in this chat, if any."""
    query = (
        generations.select()
        .where(
            generations.c.chat_id == chat_id,
            generations.c.owner_id == owner_id,
            generations.c.ended.is_(None),
        )
        .order_by(generations.c.started.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else GenerationRow(*row)
