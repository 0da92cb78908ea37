"""SQLite's search index holds finished swipes only, not a reply's text while it streams.

A streaming reply is inserted with its first text (``status='incomplete'``, no
``finish_reason``) and rewritten when it ends: indexing the partial text and taking it out
again cost a turn ~0.1 ms for nothing searchable. Its final write sets ``finish_reason``
(a stopped or failed reply too), and that is when it is indexed. The triggers keep one
rule: a swipe is in ``swipes_fts`` exactly when it is not a reply still streaming (FTS5
must never be told to delete a row it does not hold). PostgreSQL's generated column is
left as it is.

Revision ID: 0010_search_finished
Revises: 0009_chat_prompts
"""

from __future__ import annotations

from alembic import op

revision = "0010_search_finished"
down_revision = "0009_chat_prompts"
branch_labels = None
depends_on = None

_INDEXED = "(status != 'incomplete' OR finish_reason IS NOT NULL)"
"""A swipe's row (``new.``/``old.`` prefixed below) is in the index when this holds."""


def _indexed(row: str) -> str:
    return _INDEXED.replace("status", f"{row}.status").replace(
        "finish_reason", f"{row}.finish_reason"
    )


_DROP = (
    "DROP TRIGGER IF EXISTS swipes_fts_insert",
    "DROP TRIGGER IF EXISTS swipes_fts_delete",
    "DROP TRIGGER IF EXISTS swipes_fts_update",
)
_UP = (
    *_DROP,
    # what the old triggers indexed while it streamed: out, as the new rule has it
    "INSERT INTO swipes_fts(swipes_fts, rowid, text) "
    f"SELECT 'delete', id, text FROM swipes WHERE NOT {_INDEXED}",
    f"CREATE TRIGGER swipes_fts_insert AFTER INSERT ON swipes WHEN {_indexed('new')} BEGIN "
    "INSERT INTO swipes_fts(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER swipes_fts_delete AFTER DELETE ON swipes WHEN {_indexed('old')} BEGIN "
    "INSERT INTO swipes_fts(swipes_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER swipes_fts_update AFTER UPDATE OF text, status, finish_reason ON swipes "
    "BEGIN "
    "INSERT INTO swipes_fts(swipes_fts, rowid, text) "
    f"SELECT 'delete', old.id, old.text WHERE {_indexed('old')}; "
    "INSERT INTO swipes_fts(rowid, text) "
    f"SELECT new.id, new.text WHERE {_indexed('new')}; END",
)
_DOWN = (
    *_DROP,
    "CREATE TRIGGER swipes_fts_insert AFTER INSERT ON swipes BEGIN "
    "INSERT INTO swipes_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER swipes_fts_delete AFTER DELETE ON swipes BEGIN "
    "INSERT INTO swipes_fts(swipes_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER swipes_fts_update AFTER UPDATE OF text ON swipes BEGIN "
    "INSERT INTO swipes_fts(swipes_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO swipes_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO swipes_fts(swipes_fts) VALUES ('rebuild')",
)


def _run(statements: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    """Index finished swipes only (SQLite)."""
    _run(_UP)


def downgrade() -> None:
    """Index every swipe again (SQLite)."""
    _run(_DOWN)
