"""Owner-only storage: a fresh data folder is 0700, its database and WAL files 0600."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytavern.engine import Engine
from pytavern.engine.storage import secure_data_dir
from pytavern.settings import Settings, get_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common default umask, under which new files would be world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("loose_umask")
def test_fresh_default_data_folder_is_owner_only(data_dir: Path) -> None:
    assert not data_dir.exists()
    engine = Engine.open(get_settings())
    try:
        engine.store.add_character({"name": "Ada", "data": {"name": "Ada"}})
        database = get_settings().database_path
        assert mode(data_dir) == 0o700
        assert mode(database) == 0o600
        for suffix in ("-wal", "-shm"):
            companion = database.with_name(database.name + suffix)
            assert companion.exists()
            assert mode(companion) == 0o600
    finally:
        asyncio.run(engine.aclose())


@pytest.mark.usefixtures("loose_umask")
def test_existing_loose_folder_is_tightened_with_one_notice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "old"
    (folder / "sub").mkdir(parents=True)
    (folder / "pytavern.db").write_bytes(b"")
    (folder / "sub" / "notes.txt").write_text("x")
    (folder / "sub" / "tool.sh").write_text("#!/bin/sh\n")
    (folder / "sub" / "tool.sh").chmod(0o755)
    folder.chmod(0o755)
    with caplog.at_level(logging.WARNING, logger="pytavern.storage"):
        messages = secure_data_dir(folder)
    assert len(messages) == 1 and "made" in messages[0] and "private" in messages[0]
    assert [r.getMessage() for r in caplog.records] == messages
    assert mode(folder) == 0o700 and mode(folder / "sub") == 0o700
    assert mode(folder / "pytavern.db") == 0o600
    assert mode(folder / "sub" / "notes.txt") == 0o600
    assert mode(folder / "sub" / "tool.sh") == 0o700
    assert secure_data_dir(folder) == []


def test_folder_that_cannot_be_fixed_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    real_chmod = Path.chmod

    def refuse(self: Path, mode: int, **kwargs: object) -> None:
        if self == folder:
            raise PermissionError(1, "Operation not permitted")
        real_chmod(self, mode)

    monkeypatch.setattr(Path, "chmod", refuse)
    messages = secure_data_dir(folder)
    assert len(messages) == 1
    assert "warning" in messages[0] and "could not be made private" in messages[0]
    assert "PYTAVERN_DATA_DIR" in messages[0]


@pytest.mark.usefixtures("loose_umask")
def test_engine_open_tightens_an_existing_database(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    asyncio.run(Engine.open(settings).aclose())
    settings.database_path.chmod(0o644)
    settings.data_dir.chmod(0o755)
    asyncio.run(Engine.open(settings).aclose())
    assert mode(settings.data_dir) == 0o700
    assert mode(settings.database_path) == 0o600
