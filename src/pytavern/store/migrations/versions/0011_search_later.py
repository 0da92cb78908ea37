"""SQLite's search index takes new and changed texts in batches, not one by one.

Indexing one message with FTS5 writes a new index segment and its structure record, four
to five pages, in the transaction that stores it: two thirds of what storing a chat turn
(the user's message and the reply) wrote, and a fifth of its time. The triggers now note
the swipe's id in ``swipes_fts_pending`` (one small row) and ``pytavern.store.search``
indexes what is noted in one statement, before every search and every few hundred turns.
A swipe is in ``swipes_fts`` exactly when it is finished (0010's rule) and not pending;
what leaves or changes is taken out of the index at once, as before (FTS5 needs the text
it indexed to take a row out). PostgreSQL's generated column is left as it is.

Revision ID: 0011_search_later
Revises: 0010_search_finished
"""

from __future__ import annotations

from alembic import op

revision = "0011_search_later"
down_revision = "0010_search_finished"
branch_labels = None
depends_on = None

_FINISHED = "({row}.status != 'incomplete' OR {row}.finish_reason IS NOT NULL)"


def _finished(row: str) -> str:
    return _FINISHED.format(row=row)


def _indexed(row: str) -> str:
    """The swipe ``row`` (``old``) is in ``swipes_fts`` now."""
    pending = f"SELECT 1 FROM swipes_fts_pending WHERE swipe_id = {row}.id"
    return f"{_finished(row)} AND NOT EXISTS ({pending})"


_DROP = (
    "DROP TRIGGER IF EXISTS swipes_fts_insert",
    "DROP TRIGGER IF EXISTS swipes_fts_delete",
    "DROP TRIGGER IF EXISTS swipes_fts_update",
)
_TAKE_OUT_OLD = (
    f"INSERT INTO swipes_fts(swipes_fts, rowid, text) SELECT 'delete', old.id, old.text "
    f"WHERE {_indexed('old')}; "
)
_UP = (
    *_DROP,
    "CREATE TABLE swipes_fts_pending (swipe_id INTEGER PRIMARY KEY)",
    f"CREATE TRIGGER swipes_fts_insert AFTER INSERT ON swipes WHEN {_finished('new')} BEGIN "
    "INSERT OR IGNORE INTO swipes_fts_pending(swipe_id) VALUES (new.id); END",
    "CREATE TRIGGER swipes_fts_delete AFTER DELETE ON swipes BEGIN "
    f"{_TAKE_OUT_OLD}"
    "DELETE FROM swipes_fts_pending WHERE swipe_id = old.id; END",
    "CREATE TRIGGER swipes_fts_update AFTER UPDATE OF text, status, finish_reason ON swipes "
    "BEGIN "
    f"{_TAKE_OUT_OLD}"
    "DELETE FROM swipes_fts_pending WHERE swipe_id = old.id; "
    "INSERT OR IGNORE INTO swipes_fts_pending(swipe_id) "
    f"SELECT new.id WHERE {_finished('new')}; END",
)
_INDEX_PENDING = (
    "INSERT INTO swipes_fts(rowid, text) SELECT s.id, s.text FROM swipes_fts_pending p "
    "JOIN swipes s ON s.id = p.swipe_id",
    "DELETE FROM swipes_fts_pending",
)
_DOWN = (
    *_INDEX_PENDING,
    *_DROP,
    "DROP TABLE swipes_fts_pending",
    f"CREATE TRIGGER swipes_fts_insert AFTER INSERT ON swipes WHEN {_finished('new')} BEGIN "
    "INSERT INTO swipes_fts(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER swipes_fts_delete AFTER DELETE ON swipes WHEN {_finished('old')} BEGIN "
    "INSERT INTO swipes_fts(swipes_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER swipes_fts_update AFTER UPDATE OF text, status, finish_reason ON swipes "
    "BEGIN "
    "INSERT INTO swipes_fts(swipes_fts, rowid, text) "
    f"SELECT 'delete', old.id, old.text WHERE {_finished('old')}; "
    "INSERT INTO swipes_fts(rowid, text) "
    f"SELECT new.id, new.text WHERE {_finished('new')}; END",
)


def _run(statements: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    """Note new and changed texts for indexing in batches (SQLite)."""
    _run(_UP)


def downgrade() -> None:
    """Index what is pending, then index every write at once again (SQLite)."""
    _run(_DOWN)
