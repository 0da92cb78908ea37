"""Shared fixtures: every test gets its own data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point PYTAVERN_DATA_DIR at a fresh temporary directory."""
    path = tmp_path / "data"
    monkeypatch.setenv("PYTAVERN_DATA_DIR", str(path))
    from pytavern.settings import get_settings

    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Register the scripted test provider as API type ``scripted`` and reset its book."""
    from pytavern import providers
    from tests import scripted as scripted_module

    monkeypatch.setitem(providers.registry(), "scripted", scripted_module.SPEC)
    scripted_module.BOOK.scripts.clear()
    scripted_module.BOOK.requests.clear()
    scripted_module.BOOK.closed = 0
    yield scripted_module.BOOK


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server started for this test session (URL without a database)."""
    from tests.postgres import postgres_server

    with postgres_server() as url:
        yield url
