"""Backups and restore: a consistent snapshot while a reply streams, checks before restoring."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytavern.engine import Engine
from pytavern.engine.backup import (
    check_backup,
    create_backup,
    latest_backup,
    list_backups,
    restore_backup,
    rotate_backups,
)
from pytavern.engine.maintenance import (
    DailyBackups,
    backup_before_migration,
    daily_backup_due,
    doctor,
)
from pytavern.engine.server_lock import hold_server_lock, running_server
from pytavern.errors import ConfigError, FormatError
from pytavern.settings import Settings
from pytavern.store import AddedMessage, MessageRecord, Store
from pytavern.store.turn_journal import journals_of
from tests.postgres import create_database
from tests.scripted import Script, ScriptBook

_DATABASES = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def settings_for(kind: str, folder: Path, request: pytest.FixtureRequest) -> Settings:
    if kind == "sqlite":
        return Settings(data_dir=folder)
    server = request.getfixturevalue("postgres_url")
    return Settings(data_dir=folder, database_url=create_database(server, f"b{next(_DATABASES)}"))


def open_store(settings: Settings) -> Store:
    if settings.database_url:
        return Store.open(settings.database_url)
    return Store.open_sqlite(settings.database_path)


async def wait_for(condition: object, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


async def test_backup_while_a_reply_streams_keeps_every_committed_message(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, scripted: ScriptBook
) -> None:
    settings = settings_for(kind, tmp_path / "live", request)
    engine = Engine.open(settings)
    engine.store.save_connection(name="s", api="scripted")
    engine.store.set_default_connection("s")
    chat_id = engine.start_chat(engine.store.list_characters()[0].id).id
    scripted.scripts.extend(Script([f"w{i} " for i in range(300)], delay=0.01) for _ in range(2))

    async def talk() -> None:
        for turn in range(2):
            async for _event in engine.generate(chat_id, "send", f"turn {turn}"):
                pass

    streaming = asyncio.create_task(talk())
    watcher = open_store(settings)
    await wait_for(
        lambda: len(watcher.history(chat_id)) >= 5 and "w5" in watcher.history(chat_id)[-1].text
    )
    committed: list[MessageRecord] = watcher.history(chat_id)
    assert committed[-1].role == "assistant" and not streaming.done()
    info = await asyncio.to_thread(create_backup, settings)
    assert not streaming.done(), "the backup must be taken while the reply is being written"
    await streaming
    watcher.close()
    await engine.aclose()

    empty = settings_for(kind, tmp_path / "empty", request)
    restore_backup(empty, info.path)
    restored = Engine.open(empty)
    try:
        by_id = {m.id: m for m in restored.store.history(chat_id)}
        for message in committed:
            assert message.id in by_id
            assert by_id[message.id].text.startswith(message.text)
        assert [m.text for m in committed[:-1]] == [by_id[m.id].text for m in committed[:-1]]
    finally:
        await restored.aclose()
    report = doctor(empty)
    assert report.sound, report.findings
    assert report.counts["messages"] >= len(committed)


def make_data(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data")
    engine = Engine.open(settings)
    chat = engine.start_chat(engine.store.list_characters()[0].id)
    engine.store.append_message(chat.id, role="user", name="User", text="remember me")
    asyncio.run(engine.aclose())
    return settings


def texts(settings: Settings) -> list[str]:
    store = open_store(settings)
    try:
        return [m.text for c in store.list_chats() for m in store.history(c.id)]
    finally:
        store.close()


def test_damaged_backup_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    settings = make_data(tmp_path)
    info = create_backup(settings, tmp_path / "b.zip")
    assert check_backup(info.path).database == "sqlite"
    with zipfile.ZipFile(info.path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = bytearray(members["pytavern.db"])
    data[len(data) // 2] ^= 0xFF
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("manifest.json", members["manifest.json"])
        archive.writestr("pytavern.db", bytes(data))
    before = texts(settings)
    with pytest.raises(FormatError, match="checksum"):
        restore_backup(settings, broken)
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(FormatError, match="not a sound pytavern backup"):
        restore_backup(settings, tmp_path / "junk.zip")
    assert texts(settings) == before


def test_restore_replaces_the_database_and_keeps_what_was_there(tmp_path: Path) -> None:
    settings = make_data(tmp_path)
    info = create_backup(settings)
    assert info.path.parent == settings.data_dir / "backups"
    assert info.path.stat().st_mode & 0o077 == 0
    store = open_store(settings)
    store.append_message(store.list_chats()[0].id, role="user", name="U", text="after backup")
    store.close()
    result = restore_backup(settings, info.path)
    assert "after backup" not in texts(settings) and "remember me" in texts(settings)
    assert result.previous is not None and "before-restore" in result.previous.name
    assert latest_backup(settings) is not None


def test_restore_commits_a_dead_servers_noted_writes_into_the_database_it_replaces(
    tmp_path: Path,
) -> None:
    """A server died with its turn's first write noted, not committed: the restore keeps it
    in the database it saves, and the restored database never gets it."""
    settings = make_data(tmp_path)
    info = create_backup(settings)
    store = open_store(settings)
    chat = store.list_chats()[0].id
    turn = [AddedMessage("user", "U", "noted"), AddedMessage("assistant", "A", "first")]
    assert store.note_append(chat, turn) is not None
    store.close()  # as a killed server leaves it: the journal unlocked, the write in it
    result = restore_backup(settings, info.path)
    assert "noted" not in texts(settings)
    assert not journals_of(settings.database_path)
    assert result.previous is not None
    restore_backup(settings, result.previous)  # what was there, saved before the restore
    assert texts(settings)[-2:] == ["noted", "first"]


@pytest.fixture
def other_process() -> Iterator[int]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def test_restore_refuses_over_a_running_server_without_force(
    tmp_path: Path, other_process: int
) -> None:
    settings = make_data(tmp_path)
    info = create_backup(settings)
    with hold_server_lock(settings.data_dir, 8000):
        lock = settings.data_dir / "server.pid"
        assert running_server(settings.data_dir) is not None
        lock.write_text(f'{{"pid": {other_process}}}')
        with pytest.raises(ConfigError, match="server"):
            restore_backup(settings, info.path)
        restore_backup(settings, info.path, force=True)
    lock.write_text('{"pid": 999999999}')
    assert running_server(settings.data_dir) is None


def test_keys_are_sealed_with_the_passphrase(tmp_path: Path) -> None:
    settings = make_data(tmp_path)
    engine = Engine.open(settings)
    engine.secrets.set("openai", "sk-very-secret-key-1234")
    asyncio.run(engine.aclose())
    info = create_backup(settings, passphrase="correct horse battery")
    with zipfile.ZipFile(info.path) as archive:
        everything = b"".join(archive.read(n) for n in archive.namelist())
    key_file = (settings.data_dir / "secrets.key").read_bytes().strip()
    assert b"sk-very-secret" not in everything and key_file not in everything
    empty = Settings(data_dir=tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match="passphrase"):
        restore_backup(empty, info.path, passphrase="wrong passphrase")
    assert not empty.database_path.exists()
    restore_backup(empty, info.path, passphrase="correct horse battery")
    restored = Engine.open(empty)
    assert restored.secrets.get("openai") == "sk-very-secret-key-1234"
    asyncio.run(restored.aclose())


def test_automatic_backups_rotate_and_run_daily(tmp_path: Path) -> None:
    settings = make_data(tmp_path).model_copy(update={"backup_keep": 2})
    assert daily_backup_due(settings)
    daily = DailyBackups(settings)
    assert daily.run_once() and not daily.run_once()
    assert not daily_backup_due(settings)
    for _ in range(3):
        create_backup(settings, reason="daily")
    manual = create_backup(settings)
    removed = rotate_backups(settings)
    assert len(removed) == 2
    names = [p.name for p in list_backups(settings)]
    assert len([n for n in names if n.startswith("auto-")]) == 2 and manual.path.name in names


def test_a_migration_is_preceded_by_a_backup(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from pytavern.store.database import MIGRATIONS_DIR, make_engine

    settings = make_data(tmp_path)
    engine = make_engine(f"sqlite:///{settings.database_path}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    engine.dispose()
    assert not backup_before_migration(Settings(data_dir=tmp_path / "new"))
    for _ in range(2):
        asyncio.run(Engine.open(settings).aclose())
    [made] = list_backups(settings)
    assert "before-migration" in made.name
    assert check_backup(made).schema is not None
