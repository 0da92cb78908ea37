"""The usage ledger: one row per request sent to a backend, for ``pytavern usage``.

A row says when, for whom and which chat, which connection and model, the tokens as the
backend reported them (input, output, read from a prompt cache, written to it, reasoning),
how long the request took and its time to first token, how it ended and what it cost
where a price is known. Rows never hold message text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

_metadata = sa.MetaData()
usage_ledger = sa.Table(
    "usage_ledger",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner_id", sa.Integer, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("chat_id", sa.Integer, nullable=True),
    sa.Column("connection", sa.String(200), nullable=False),
    sa.Column("api", sa.String(40), nullable=False),
    sa.Column("model", sa.String(200), nullable=True),
    sa.Column("input_tokens", sa.Integer, nullable=True),
    sa.Column("output_tokens", sa.Integer, nullable=True),
    sa.Column("cached_tokens", sa.Integer, nullable=True),
    sa.Column("cache_write_tokens", sa.Integer, nullable=True),
    sa.Column("reasoning_tokens", sa.Integer, nullable=True),
    sa.Column("duration", sa.Float, nullable=False),
    sa.Column("ttft", sa.Float, nullable=True),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("cost", sa.Float, nullable=True),
)


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One request in the ledger (``id`` is 0 before it is stored)."""

    at: float
    chat_id: int | None
    connection: str
    api: str
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    cached_tokens: int | None
    cache_write_tokens: int | None
    reasoning_tokens: int | None
    duration: float
    ttft: float | None
    outcome: str
    error: str | None = None
    cost: float | None = None
    owner_id: int = 0
    id: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return asdict(self)


def add_usage(engine: Engine, row: UsageRow) -> None:
    """Store one ledger row."""
    values = row.to_dict()
    values.pop("id")
    with engine.begin() as connection:
        connection.execute(usage_ledger.insert().values(**values))


def list_usage(engine: Engine, owner_id: int, *, since: float | None = None) -> list[UsageRow]:
    """The owner's ledger rows (from ``since``, a Unix time, when given), oldest first."""
    query = usage_ledger.select().where(usage_ledger.c.owner_id == owner_id)
    if since is not None:
        query = query.where(usage_ledger.c.at >= since)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(usage_ledger.c.at, usage_ledger.c.id))
        return [UsageRow(**dict(row._mapping)) for row in rows]
