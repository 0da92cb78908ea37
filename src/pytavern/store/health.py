"""Read-only checks of a database: orphaned rows, broken JSON, counters out of step.

Every query here only reads; ``read_only_engine`` opens SQLite with ``mode=ro`` and PostgreSQL
with read-only transactions, so a check can never change what it looks at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, inspect, text

from pytavern.store.snapshot import sqlite_problems


@dataclass(frozen=True, slots=True)
class Finding:
    """One kind of problem and how many rows have it."""

    check: str
    count: int
    detail: str
    example_ids: tuple[int, ...] = ()


_ORPHANS: tuple[tuple[str, str, str], ...] = (
    (
        "chats without their character",
        "SELECT c.id FROM chats c LEFT JOIN characters h ON h.id = c.character_id "
        "WHERE h.id IS NULL",
        "chats whose character row is gone",
    ),
    (
        "messages without their chat",
        "SELECT m.id FROM messages m LEFT JOIN chats c ON c.id = m.chat_id WHERE c.id IS NULL",
        "messages whose chat row is gone",
    ),
    (
        "swipes without their message",
        "SELECT s.id FROM swipes s LEFT JOIN messages m ON m.id = s.message_id WHERE m.id IS NULL",
        "swipes whose message row is gone",
    ),
    (
        "messages without their shown swipe",
        "SELECT m.id FROM messages m LEFT JOIN swipes s ON s.message_id = m.id "
        "AND s.swipe_index = m.active_swipe WHERE s.id IS NULL",
        "messages whose active swipe (the text shown) does not exist",
    ),
    (
        "messages with a wrong swipe count",
        "SELECT m.id FROM messages m WHERE m.swipe_count <> "
        "(SELECT COUNT(*) FROM swipes s WHERE s.message_id = m.id)",
        "messages whose swipe_count differs from their swipes",
    ),
    (
        "chats with a wrong message count",
        "SELECT c.id FROM chats c WHERE c.message_count <> "
        "(SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id)",
        "chats whose message_count differs from their messages",
    ),
    (
        "chats whose next position is taken",
        "SELECT c.id FROM chats c WHERE c.next_position <= "
        "(SELECT MAX(m.position) FROM messages m WHERE m.chat_id = c.id)",
        "chats where the next message would collide with an existing one",
    ),
    (
        "sessions without their user",
        "SELECT s.user_id FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE u.id IS NULL",
        "login sessions of deleted users",
    ),
)

_JSON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("characters", "card"),
    ("chats", "metadata"),
    ("messages", "extra"),
    ("lorebooks", "data"),
    ("presets", "data"),
    ("connections", "options"),
)


def read_only_engine(url: str) -> Engine:
    """An engine that cannot write: SQLite opened ``mode=ro``, PostgreSQL read-only."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    return create_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})


def _orphans(connection: Connection) -> list[Finding]:
    findings = []
    for check, query, detail in _ORPHANS:
        ids = [int(row[0]) for row in connection.execute(text(query))]
        if ids:
            findings.append(Finding(check, len(ids), detail, tuple(ids[:5])))
    return findings


def _broken_json(connection: Connection) -> list[Finding]:
    findings = []
    for table, column in _JSON_COLUMNS:
        bad: list[int] = []
        for row_id, value in connection.execute(text(f"SELECT id, {column} FROM {table}")):
            try:
                json.loads(value) if value else None
            except (TypeError, ValueError):
                bad.append(int(row_id))
        if bad:
            findings.append(
                Finding(
                    f"broken JSON in {table}.{column}", len(bad), "cannot be parsed", tuple(bad[:5])
                )
            )
    return findings


def database_findings(url: str) -> list[Finding]:
    """Every problem found in the database at ``url``, changing nothing."""
    findings: list[Finding] = []
    if url.startswith("sqlite"):
        problems = sqlite_problems(Path(url.split(":///", 1)[1]))
        if problems:
            findings.append(Finding("SQLite integrity", len(problems), "; ".join(problems[:3])))
    engine = read_only_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("messages"):
                return [*findings, Finding("schema", 1, "the database has no pytavern tables")]
            findings += _orphans(connection)
            findings += _broken_json(connection)
    finally:
        engine.dispose()
    return findings


def table_counts(url: str) -> dict[str, int]:
    """How many rows each pytavern table holds."""
    engine = read_only_engine(url)
    tables = ("characters", "chats", "messages", "swipes", "lorebooks", "presets", "personas")
    try:
        with engine.connect() as connection:
            return {
                t: int(connection.scalar(text(f"SELECT COUNT(*) FROM {t}")) or 0) for t in tables
            }
    finally:
        engine.dispose()
