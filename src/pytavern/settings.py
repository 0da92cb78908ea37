"""Process settings: where data lives and where the server listens.

Read once through ``get_settings()``; ``PYTAVERN_DATA_DIR``, ``PYTAVERN_HOST`` and
``PYTAVERN_PORT`` override the defaults.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pytavern.security.listen import Protection

ACCOUNTS_GENERATION_LIMIT = 4
"""The default cap on one user's running generations when accounts are on."""


def default_data_dir() -> Path:
    """Return the platform's per-user data directory for pytavern."""
    return Path(platformdirs.user_data_dir("pytavern", appauthor=False))


class Settings(BaseSettings):
    """Settings of one pytavern process."""

    model_config = SettingsConfigDict(env_prefix="PYTAVERN_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8000
    local_model_path: Path | None = None
    database_url: str | None = None
    """A SQLAlchemy URL (e.g. ``postgresql+psycopg://user@host/db``); SQLite when unset."""
    accounts: bool = False
    """User accounts: every request needs a login session; each user sees only their data."""
    basic_auth: str | None = Field(default=None, repr=False)
    """``user:password`` for HTTP basic auth, the simple single-user protection."""
    allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """IP addresses and CIDR ranges allowed to connect (loopback always is)."""
    insecure_listen: bool = False
    """Listen on a network address with no protection, knowingly."""
    session_hours: float = 24 * 7
    """How long a login session lasts."""
    max_upload_bytes: int = 20 * 1024 * 1024
    """The largest file accepted by an upload (cards, chats, lorebooks, presets)."""
    max_generations_per_user: int | None = Field(default=None, ge=1)
    """How many generations one user may have running at once (in one server process);
    unset: ``ACCOUNTS_GENERATION_LIMIT`` with accounts on, no limit for the single user."""
    generation_replay_seconds: float = Field(default=60.0, ge=0)
    """How long a finished generation's events stay available to clients that re-attach."""
    backup_keep: int = Field(default=7, ge=1)
    """How many automatic backups (daily, before a migration) to keep in ``backups/``."""
    daily_backup: bool = True
    """Whether ``pytavern serve`` makes an automatic backup once a day."""
    access_log: bool = False
    """Whether ``pytavern serve`` logs each request (method, path without query, status)."""

    @field_validator("allow", mode="before")
    @classmethod
    def _split_allow(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def protection(self) -> Protection:
        """Which protections these settings turn on."""
        return Protection(
            accounts=self.accounts,
            basic_auth=bool(self.basic_auth),
            allow_list=bool(self.allow),
            override=self.insecure_listen,
        )

    def generation_limit(self) -> int | None:
        """How many generations one user may run at once (None: no limit)."""
        if self.max_generations_per_user is not None:
            return self.max_generations_per_user
        return ACCOUNTS_GENERATION_LIMIT if self.accounts else None

    @property
    def database_path(self) -> Path:
        """The SQLite database file inside the data directory."""
        return self.data_dir / "pytavern.db"

    @property
    def secrets_path(self) -> Path:
        """The key store, kept apart from the database."""
        return self.data_dir / "secrets.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process settings, read from the environment once."""
    return Settings()
