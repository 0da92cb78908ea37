"""Full-text search over message texts: an FTS5 index on SQLite, a tsvector on PostgreSQL.

SQLite: ``swipes_fts``, an external-content FTS5 table over ``swipes.text`` kept by triggers
(foreign-key cascades fire them too). PostgreSQL: ``swipes.text_tsv``, a stored generated
``tsvector`` (the ``simple`` configuration: every language, no stemming) with a GIN index.

Revision ID: 0006_search
Revises: 0004_generations
"""

from __future__ import annotations

from alembic import op

revision = "0006_search"
down_revision = "0005_h16a_groups"
branch_labels = None
depends_on = None

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE swipes_fts USING fts5(text, content='swipes', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER swipes_fts_insert AFTER INSERT ON swipes BEGIN "
    "INSERT INTO swipes_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER swipes_fts_delete AFTER DELETE ON swipes BEGIN "
    "INSERT INTO swipes_fts(swipes_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER swipes_fts_update AFTER UPDATE OF text ON swipes BEGIN "
    "INSERT INTO swipes_fts(swipes_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO swipes_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO swipes_fts(swipes_fts) VALUES ('rebuild')",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS swipes_fts_update",
    "DROP TRIGGER IF EXISTS swipes_fts_delete",
    "DROP TRIGGER IF EXISTS swipes_fts_insert",
    "DROP TABLE IF EXISTS swipes_fts",
)
_POSTGRES_UP = (
    "ALTER TABLE swipes ADD COLUMN text_tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED",
    "CREATE INDEX ix_swipes_text_tsv ON swipes USING gin (text_tsv)",
)
_POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS ix_swipes_text_tsv",
    "ALTER TABLE swipes DROP COLUMN IF EXISTS text_tsv",
)


def _run(statements: tuple[str, ...]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    """Create the search index of this database's kind."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(_SQLITE_UP if sqlite else _POSTGRES_UP)


def downgrade() -> None:
    """Drop the search index."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    _run(_SQLITE_DOWN if sqlite else _POSTGRES_DOWN)
