"""Process settings: where data lives and where the server listens.

Read once through ``get_settings()``; ``PYTAVERN_DATA_DIR``, ``PYTAVERN_HOST`` and
``PYTAVERN_PORT`` override the defaults.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
