"""User accounts and their login sessions (a server run with ``PYTAVERN_ACCOUNTS=1``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pytavern.engine.services._base import Service
from pytavern.engine.setup import mark_defaults_installed
from pytavern.errors import ConfigError, NotFoundError
from pytavern.secrets import write_private
from pytavern.security.passwords import hash_password, verify_password
from pytavern.store import UserRecord
from pytavern.store.schema import utcnow

MIN_PASSWORD = 8
"""The shortest password an account may have."""


def check_password(password: str) -> str:
    """``password`` when it is long enough; a ``ConfigError`` otherwise."""
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is shorter than {MIN_PASSWORD} characters")
    return password


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only."""
    write_private(path, data)


class UserService(Service):
    """Accounts: add, list, change; sessions for the server's logins."""

    def all(self) -> list[UserRecord]:
        """Every user."""
        return self._engine.store.list_users()

    def find(self, name: str) -> UserRecord | None:
        """The user of that name, if any."""
        return self._engine.store.find_user(name)

    def require(self, name: str) -> UserRecord:
        """The user of that name (``NotFoundError`` when there is none)."""
        user = self.find(name)
        if user is None:
            raise NotFoundError(
                f"no user named {name!r}", hint="List them with `pytavern users list`"
            )
        return user

    def add(self, name: str, password: str, *, admin: bool = False) -> tuple[UserRecord, bool]:
        """Add a user; the first admin also receives the data made before accounts were on.

        Returns the user and whether it adopted that data.
        """
        store = self._engine.store
        first_admin = admin and not any(u.is_admin for u in store.list_users())
        user = store.create_user(name, hash_password(check_password(password)), is_admin=admin)
        if first_admin:
            store.adopt_unowned(user.id)
            mark_defaults_installed(store.for_owner(user.id))
            self._adopt_keys(user.id)
        return user, first_admin

    def _adopt_keys(self, user_id: int) -> None:
        secrets = self._engine.secrets
        mine = secrets.for_owner(user_id)
        for name in secrets.names():
            keys = secrets.get_keys(name)
            if keys:
                mine.set_keys(name, keys)
                secrets.delete(name)

    def set_password(self, name: str, password: str) -> None:
        """Set a user's password (ends their sessions)."""
        user = self.require(name)
        hashed = hash_password(check_password(password))
        self._engine.store.update_user(user.id, password_hash=hashed)

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Let a user log in, or stop them (ends their sessions)."""
        self._engine.store.update_user(self.require(name).id, enabled=enabled)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches a stored password hash."""
        return verify_password(stored_hash, password)

    def open_session(self, token_hash: str, user_id: int, hours: float) -> None:
        """Record a login session (by its token's hash) lasting ``hours``."""
        expires: datetime = utcnow() + timedelta(hours=hours)
        self._engine.store.create_session(token_hash, user_id, expires)

    def close_session(self, token_hash: str) -> None:
        """End a login session."""
        self._engine.store.delete_session(token_hash)

    def session_user(self, token_hash: str) -> UserRecord | None:
        """The user of a live session, if any."""
        return self._engine.store.session_user(token_hash)
