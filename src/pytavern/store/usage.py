"""The usage ledger: one row per request sent to a backend, for ``pytavern usage``.

A row says when, for whom and which chat, which connection and model, the tokens as the
backend reported them (input, output, read from a prompt cache, written to it, reasoning),
how long the request took and its time to first token, how it ended and what it cost
where a price is known. Rows never hold message text.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from pytavern.store.lean import LeanStatement

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


_STORED_FIELDS = tuple(f.name for f in fields(UsageRow) if f.name != "id")
_INSERT = LeanStatement(usage_ledger.insert())


_LENGTHS = {
    column.name: column.type.length
    for column in usage_ledger.columns
    if isinstance(column.type, sa.String) and column.type.length
}


def insert_usage(connection: Connection, rows: Iterable[UsageRow]) -> None:
    """Insert ledger rows in ``connection``'s transaction (texts clipped to their columns,
    so a row cannot fail the write it joins: a model name comes from the backend)."""
    for row in rows:
        values = {name: getattr(row, name) for name in _STORED_FIELDS}
        for name, length in _LENGTHS.items():
            value = values[name]
            if isinstance(value, str) and len(value) > length:
                values[name] = value[:length]
        _INSERT.execute(connection, values)


def add_usage(engine: Engine, row: UsageRow) -> None:
    """Store one ledger row in a transaction of its own."""
    with engine.begin() as connection:
        insert_usage(connection, [row])


class PendingUsage:
    """Ledger rows waiting for the store's next write transaction (thread-safe).

    A turn's request is recorded when its stream closes, just before the reply's last
    write: queued here, the row joins that write's transaction instead of costing a
    transaction (and a commit) of its own. Rows are taken only by a transaction that
    commits them; one that fails puts them back.
    """

    def __init__(self) -> None:
        self._rows: list[UsageRow] = []
        self._lock = threading.Lock()

    def add(self, row: UsageRow) -> None:
        """Queue ``row`` for the next write."""
        with self._lock:
            self._rows.append(row)

    def take(self) -> list[UsageRow]:
        """Every queued row, oldest first; the queue is left empty."""
        with self._lock:
            rows, self._rows = self._rows, []
        return rows

    def put_back(self, rows: list[UsageRow]) -> None:
        """Requeue rows whose transaction failed, ahead of any queued since."""
        if rows:
            with self._lock:
                self._rows[:0] = rows

    def __bool__(self) -> bool:
        return bool(self._rows)


def list_usage(engine: Engine, owner_id: int, *, since: float | None = None) -> list[UsageRow]:
    """The owner's ledger rows (from ``since``, a Unix time, when given), oldest first."""
    query = usage_ledger.select().where(usage_ledger.c.owner_id == owner_id)
    if since is not None:
        query = query.where(usage_ledger.c.at >= since)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(usage_ledger.c.at, usage_ledger.c.id))
        return [UsageRow(**dict(row._mapping)) for row in rows]
