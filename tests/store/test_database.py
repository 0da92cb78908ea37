"""Opening a database: migrations run only when the schema is behind."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from pytavern.store import Store
from pytavern.store.database import (
    HEAD_REVISION,
    MIGRATIONS_DIR,
    current_revision,
    make_engine,
    sqlite_url,
)


def test_the_known_head_is_the_newest_migration() -> None:
    """A new migration must move ``HEAD_REVISION`` on, or opening would skip it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_a_new_database_is_migrated_to_the_head(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "new.db"))
    assert current_revision(engine) is None
    engine.dispose()
    Store.open_sqlite(tmp_path / "new.db").close()
    engine = make_engine(sqlite_url(tmp_path / "new.db"))
    assert current_revision(engine) == HEAD_REVISION
    engine.dispose()
