"""Persistence: SQLAlchemy 2 on SQLite (default) or PostgreSQL, migrated by Alembic.

``Store`` is the one facade the engine and faces use; its methods return plain records.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select

from pytavern.store.characters import CharactersMixin
from pytavern.store.chats import ChatsMixin
from pytavern.store.connections import ConnectionsMixin
from pytavern.store.databank import DatabankMixin, DocumentRecord, FoundChunk
from pytavern.store.database import make_engine, migrate, sqlite_url
from pytavern.store.groups import GroupRecord, GroupsMixin
from pytavern.store.library import LibraryMixin
from pytavern.store.noted_writes import NotedWritesMixin
from pytavern.store.queries import Queries, StoredCard
from pytavern.store.records import (
    AddedMessage,
    CharacterRecord,
    ChatRecord,
    ConnectionRecord,
    LorebookRecord,
    MessageRecord,
    NewMessage,
    PersonaRecord,
    PresetRecord,
    SwipeRecord,
    SwipeStatus,
    UserRecord,
)
from pytavern.store.revision import ensure_revision_row
from pytavern.store.schema import MetaRow
from pytavern.store.users import UsersMixin

log = logging.getLogger(__name__)

__all__ = [
    "AddedMessage",
    "CharacterRecord",
    "ChatRecord",
    "ConnectionRecord",
    "DocumentRecord",
    "FoundChunk",
    "GroupRecord",
    "LorebookRecord",
    "MessageRecord",
    "NewMessage",
    "PersonaRecord",
    "PresetRecord",
    "Queries",
    "Store",
    "StoredCard",
    "SwipeRecord",
    "SwipeStatus",
    "UserRecord",
]


class Store(
    ConnectionsMixin,
    CharactersMixin,
    ChatsMixin,
    NotedWritesMixin,
    LibraryMixin,
    UsersMixin,
    GroupsMixin,
    DatabankMixin,
):
    """Everything pytavern keeps, except secrets (see ``pytavern.secrets``)."""

    @classmethod
    def open(cls, url: str) -> Store:
        """Open (and migrate) the database at SQLAlchemy URL ``url``."""
        engine = make_engine(url)
        migrate(engine)
        store = cls(engine)
        ensure_revision_row(store._sessions)
        store.replay_journals()
        return store

    @classmethod
    def open_sqlite(cls, path: Path) -> Store:
        """Open (and migrate) a SQLite database file, creating its folder."""
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls.open(sqlite_url(path))

    def get_meta(self, key: str) -> str | None:
        """A stored fact about this data directory."""
        with self.transaction() as session:
            row = session.scalar(select(MetaRow).where(MetaRow.key == key))
            return row.value if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a fact about this data directory."""
        with self.transaction() as session:
            session.merge(MetaRow(key=key, value=value))

    def close(self) -> None:
        """Write the prompt breakdowns that wait, then release the database connections."""
        try:
            self.write_prompts()
        except Exception:  # diagnostics only: closing goes on
            log.exception("the last prompts of some chats could not be written")
        finally:
            if self.journal is not None:
                self.journal.close()
            self.held.close()
            self.engine.dispose()
