"""Fixtures shared by the store tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytavern.store import Store
from tests.postgres import create_database

_DATABASES = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        opened = Store.open_sqlite(tmp_path / "db" / "test.db")
    else:
        server = request.getfixturevalue("postgres_url")
        opened = Store.open(create_database(server, f"t{next(_DATABASES)}"))
    yield opened
    opened.close()
