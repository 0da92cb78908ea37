"""The library revision: a token that changes with every write to the library tables.

Characters, connections, personas, lorebooks, presets, settings and Data Bank documents
change rarely; chat turns read them constantly. Every transaction that writes one of those
tables also writes a new random token to the ``meta`` row ``library_revision``, in the same
transaction, so a reader that finds the token unchanged knows all of them are unchanged,
in this process or any other sharing the database. The hooks are on the ORM session, so
every store method that writes those tables through a session is covered without having
to remember it.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from pytavern.store.schema import (
    CharacterRow,
    ConnectionRow,
    DocumentRow,
    LorebookRow,
    MetaRow,
    PersonaRow,
    PresetRow,
    SettingRow,
)

REVISION_KEY = "library_revision"
LIBRARY_ROWS: tuple[type[Any], ...] = (
    CharacterRow,
    ConnectionRow,
    PersonaRow,
    LorebookRow,
    PresetRow,
    SettingRow,
    DocumentRow,
)
LIBRARY_TABLES = frozenset(row.__tablename__ for row in LIBRARY_ROWS)
_CHANGED = "library_changed"


def new_token() -> str:
    """A fresh revision token."""
    return secrets.token_hex(8)


def watch_library_writes(sessions: sessionmaker[Session]) -> None:
    """Make every session of ``sessions`` bump the revision when it writes the library."""
    event.listen(sessions, "do_orm_execute", _note_bulk_write)
    event.listen(sessions, "after_flush", _note_flushed_rows)
    event.listen(sessions, "before_commit", _bump_if_changed)


def _note_bulk_write(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in LIBRARY_TABLES:
        state.session.info[_CHANGED] = True


def _touches_library(session: Session) -> bool:
    pending = (*session.new, *session.dirty, *session.deleted)
    return any(isinstance(row, LIBRARY_ROWS) for row in pending)


def _note_flushed_rows(session: Session, _context: Any) -> None:
    if _touches_library(session):  # still the flushed rows while after_flush runs
        session.info[_CHANGED] = True


def _bump_if_changed(session: Session) -> None:
    if session.info.pop(_CHANGED, False) or _touches_library(session):
        session.execute(
            update(MetaRow).where(MetaRow.key == REVISION_KEY).values(value=new_token())
        )


def ensure_revision_row(sessions: sessionmaker[Session]) -> None:
    """Create the revision row if this database has none yet (safe when racing another
    process doing the same)."""
    try:
        with sessions() as session, session.begin():
            if session.scalar(select(MetaRow.key).where(MetaRow.key == REVISION_KEY)):
                return
            session.add(MetaRow(key=REVISION_KEY, value=new_token()))
    except IntegrityError:
        return  # another process created it first
