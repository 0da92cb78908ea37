"""Accounts and login sessions (shared by every server process through the database)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from pytavern.errors import ConfigError, NotFoundError
from pytavern.store._base import StoreBase
from pytavern.store.records import UserRecord
from pytavern.store.schema import (
    CharacterRow,
    ChatRow,
    ConnectionRow,
    LorebookRow,
    PersonaRow,
    PresetRow,
    SessionRow,
    SettingRow,
    UserRow,
    utcnow,
)

OWNED_TABLES = (
    CharacterRow,
    ChatRow,
    ConnectionRow,
    LorebookRow,
    PersonaRow,
    PresetRow,
    SettingRow,
)


def _user(row: UserRow) -> UserRecord:
    return UserRecord(
        id=row.id,
        name=row.name,
        password_hash=row.password_hash,
        is_admin=row.is_admin,
        enabled=row.enabled,
    )


class UsersMixin(StoreBase):
    """Account and session storage (not scoped to an owner)."""

    def create_user(self, name: str, password_hash: str, *, is_admin: bool = False) -> UserRecord:
        """Create an account; names are unique."""
        if not name.strip():
            raise ConfigError("a user needs a name")
        with self.transaction() as session:
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise ConfigError(f"a user named {name!r} exists already")
            row = UserRow(name=name, password_hash=password_hash, is_admin=is_admin, enabled=True)
            session.add(row)
            session.flush()
            return _user(row)

    def find_user(self, name: str) -> UserRecord | None:
        """The account called ``name``, if any."""
        with self.transaction() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            return _user(row) if row else None

    def get_user(self, user_id: int) -> UserRecord:
        """The account with this id."""
        with self.transaction() as session:
            row = session.get(UserRow, user_id)
            if row is None:
                raise NotFoundError(f"no user with id {user_id}")
            return _user(row)

    def list_users(self) -> list[UserRecord]:
        """Every account, by name."""
        with self.transaction() as session:
            return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.name))]

    def update_user(
        self,
        user_id: int,
        *,
        password_hash: str | None = None,
        is_admin: bool | None = None,
        enabled: bool | None = None,
    ) -> UserRecord:
        """Change an account's password, role or whether it may log in."""
        with self.transaction() as session:
            row = session.get(UserRow, user_id)
            if row is None:
                raise NotFoundError(f"no user with id {user_id}")
            if password_hash is not None:
                row.password_hash = password_hash
            if is_admin is not None:
                row.is_admin = is_admin
            if enabled is not None:
                row.enabled = enabled
            if enabled is False or password_hash is not None:
                session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
            return _user(row)

    def adopt_unowned(self, user_id: int) -> None:
        """Give the single-user data (owner 0) to ``user_id`` when accounts are turned on."""
        with self.transaction() as session:
            for table in OWNED_TABLES:
                session.execute(update(table).where(table.owner_id == 0).values(owner_id=user_id))

    def create_session(self, token_hash: str, user_id: int, expires_at: datetime) -> None:
        """Record a login session by the hash of its token."""
        with self.transaction() as session:
            session.add(SessionRow(id=token_hash, user_id=user_id, expires_at=expires_at))

    def session_user(self, token_hash: str) -> UserRecord | None:
        """The enabled user of a live session, or ``None``."""
        with self.transaction() as session:
            row = session.get(SessionRow, token_hash)
            if row is None:
                return None
            expires = row.expires_at
            now = utcnow() if expires.tzinfo else utcnow().replace(tzinfo=None)
            user = session.get(UserRow, row.user_id)
            if expires <= now or user is None or not user.enabled:
                session.delete(row)
                return None
            return _user(user)

    def delete_session(self, token_hash: str) -> None:
        """End a login session."""
        with self.transaction() as session:
            session.execute(delete(SessionRow).where(SessionRow.id == token_hash))
