"""The turn journal: a first write noted before anyone is shown it, committed exactly once,
by this process right after or by the next opener of the database when this one died."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from pytavern.errors import NotFoundError
from pytavern.store import AddedMessage, Store
from pytavern.store.turn_journal import (
    EMPTIED_PAST,
    NotedWrite,
    journal_for,
    journals_of,
    read_journal,
)

ROOT = Path(__file__).resolve().parents[2]
TURN = (
    AddedMessage("user", "User", "Hello"),
    AddedMessage("assistant", "A", "Hi", "incomplete", None, {"connection": "c"}),
)


def _open(folder: Path) -> Store:
    return Store.open_sqlite(folder / "test.db")


def _chat(store: Store) -> int:
    character = store.add_character({"name": "A"})
    return store.create_chat(character.id).id


def _texts(store: Store, chat: int) -> list[str]:
    return [message.text for message in store.history(chat)]


def _journals(folder: Path) -> list[Path]:
    return journals_of(folder / "test.db")


def _die_after(folder: Path, chat: int, commit: bool) -> None:
    """A process that notes the turn (and commits it, but not that it did) and is killed."""
    script = f"""
        import os
        from pathlib import Path
        from pytavern.store import AddedMessage, Store
        store = Store.open_sqlite(Path({str(folder)!r}) / "test.db")
        noted = store.note_append({chat}, {TURN!r})
        if {commit}:
            with store.queries() as queries:
                queries.append_messages(noted.chat_id, noted.messages, at=noted.at)
        os._exit(9)
    """
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    finished = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env)
    assert finished.returncode == 9


def test_a_noted_write_is_committed_once_and_the_file_says_so(tmp_path: Path) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    noted = store.note_append(chat, TURN)
    assert noted is not None
    assert _texts(store, chat) == []  # noted, not committed
    (path,) = _journals(tmp_path)
    assert [m.text for w in read_journal(path) for m in w.messages] == ["Hello", "Hi"]
    added = store.commit_noted(noted)
    assert [(m.role, m.text, m.swipe.status) for m in added] == [
        ("user", "Hello", "complete"),
        ("assistant", "Hi", "incomplete"),
    ]
    assert _texts(store, chat) == ["Hello", "Hi"]
    assert read_journal(path) == []  # settled: nothing for a next opener
    assert store.journal is not None and store.journal.waiting == []
    store.close()
    assert _journals(tmp_path) == []  # nothing waits: the file goes with the store


def test_newer_text_replaces_the_noted_and_runs_with_the_statements_given(
    tmp_path: Path,
) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    noted = store.note_append(chat, TURN)
    assert noted is not None
    final = AddedMessage("assistant", "A", "Hi there", "complete", None, {"connection": "c"})
    store.commit_noted(
        noted, [TURN[0], final], lambda queries: queries.merge_chat_metadata(chat, {"k": 1})
    )
    assert _texts(store, chat) == ["Hello", "Hi there"]
    assert store.get_chat(chat).metadata["k"] == 1
    store.close()


def test_the_next_opener_commits_what_a_killed_process_noted(tmp_path: Path) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    store.close()
    _die_after(tmp_path, chat, commit=False)
    assert len(_journals(tmp_path)) == 1  # left behind, unlocked
    reopened = _open(tmp_path)
    kept = [(m.text, m.swipe.status) for m in reopened.history(chat)]
    assert kept == [("Hello", "complete"), ("Hi", "incomplete")]
    assert _journals(tmp_path) == []
    reopened.close()
    assert _texts(_open(tmp_path), chat) == ["Hello", "Hi"]  # once


def test_a_write_committed_before_the_kill_is_not_committed_again(tmp_path: Path) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    store.close()
    _die_after(tmp_path, chat, commit=True)  # committed, killed before it said so
    reopened = _open(tmp_path)
    assert _texts(reopened, chat) == ["Hello", "Hi"]
    assert _journals(tmp_path) == []
    reopened.close()


def test_a_living_process_keeps_its_journal(tmp_path: Path) -> None:
    first = _open(tmp_path)
    chat = _chat(first)
    noted = first.note_append(chat, TURN)
    assert noted is not None
    second = _open(tmp_path)  # its file is locked by the first: not the second's to take
    assert second.replay_journals() == 0
    assert _texts(second, chat) == [] and len(_journals(tmp_path)) == 1
    first.commit_noted(noted)
    assert _texts(second, chat) == ["Hello", "Hi"]
    second.close()
    first.close()


def test_a_store_closed_with_a_write_waiting_leaves_it_to_the_next(tmp_path: Path) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    assert store.note_append(chat, TURN) is not None
    store.close()  # e.g. a turn whose stream nobody closed
    reopened = _open(tmp_path)
    assert _texts(reopened, chat) == ["Hello", "Hi"]
    reopened.close()


def test_a_deleted_chat_takes_its_noted_write_with_it(tmp_path: Path) -> None:
    store = _open(tmp_path)
    chat, kept = _chat(store), _chat(store)
    gone = store.note_append(chat, TURN)
    later = store.note_append(kept, TURN)
    assert gone is not None and later is not None
    store.delete_chat(chat)
    with pytest.raises(NotFoundError):
        store.commit_noted(gone)
    assert store.journal is not None and store.journal.waiting == [later]
    store.close()
    reopened = _open(tmp_path)  # the kept chat's write is committed, the other forgotten
    assert _texts(reopened, kept) == ["Hello", "Hi"]
    reopened.close()


def test_a_torn_line_is_skipped_and_the_rest_committed(tmp_path: Path) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    assert store.note_append(chat, TURN) is not None
    store.close()
    (path,) = _journals(tmp_path)
    with path.open("ab") as file:
        file.write(b'{"n":2,"chat":')  # a write that never returned
    reopened = _open(tmp_path)
    assert _texts(reopened, chat) == ["Hello", "Hi"]
    reopened.close()


def test_a_long_journal_is_emptied_when_nothing_waits(tmp_path: Path) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    assert store.journal is not None
    long_turn = (AddedMessage("user", "User", "x" * 4096), TURN[1])
    sizes = []
    for _ in range(EMPTIED_PAST // 4096 + 2):
        noted = store.note_append(chat, long_turn)
        assert noted is not None
        store.commit_noted(noted)
        (path,) = _journals(tmp_path)
        sizes.append(path.stat().st_size)
    assert EMPTIED_PAST - 10_000 < max(sizes) < EMPTIED_PAST  # grew by a line a turn ...
    assert any(later < 10_000 < earlier for earlier, later in pairwise(sizes))  # emptied
    store.close()


def test_a_journal_that_cannot_be_written_means_writing_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    assert store.journal is not None

    def full_disk(*_args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pytavern.store.turn_journal.os.write", full_disk)
    assert store.note_append(chat, TURN) is None
    assert store.journal.waiting == []
    store.close()


def test_postgresql_and_memory_have_no_journal(store: Store) -> None:
    if store.engine.dialect.name == "sqlite":
        memory = Store.open("sqlite://")
        assert memory.journal is None and journal_for(memory.engine) is None
        memory.close()
        return
    assert store.journal is None
    assert store.note_append(_chat(store), TURN) is None  # written at once by the caller


def test_a_settled_line_that_cannot_be_written_costs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    noted = store.note_append(chat, TURN)
    assert noted is not None

    def full_disk(*_args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pytavern.store.turn_journal.os.write", full_disk)
    assert [m.text for m in store.commit_noted(noted)] == ["Hello", "Hi"]  # not raised
    monkeypatch.undo()
    store.close()
    reopened = _open(tmp_path)  # the write is found committed: not committed again
    assert _texts(reopened, chat) == ["Hello", "Hi"]
    reopened.close()


def test_a_write_settled_after_the_store_closed_leaves_no_new_file(tmp_path: Path) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    noted = store.note_append(chat, TURN)
    assert noted is not None and store.journal is not None
    store.journal.close()  # the store closing while a turn's commit is under way
    store.commit_noted(noted)
    assert len(_journals(tmp_path)) == 1  # the closed one, for the next opener
    store.close()
    reopened = _open(tmp_path)
    assert _texts(reopened, chat) == ["Hello", "Hi"]
    assert _journals(tmp_path) == []
    reopened.close()


def test_another_databases_journal_in_the_same_folder_is_left_alone(tmp_path: Path) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    assert store.note_append(chat, TURN) is not None
    store.close()  # its journal waits for test.db's next opener
    other = Store.open_sqlite(tmp_path / "other.db")
    other_chat = _chat(other)
    assert other_chat == chat  # the same id in another database: never its write
    assert _texts(other, other_chat) == [] and len(_journals(tmp_path)) == 1
    other.close()
    reopened = _open(tmp_path)
    assert _texts(reopened, chat) == ["Hello", "Hi"]
    reopened.close()


def test_a_noted_write_no_store_could_take_is_skipped_and_the_rest_committed(
    tmp_path: Path,
) -> None:
    store = _open(tmp_path)
    chat = _chat(store)
    strange = (AddedMessage("assistant", "A", "odd", "incomplete", None, {"mood": "x"}),)
    assert store.journal is not None
    store.journal.note(NotedWrite(chat, 0, strange, datetime.now(UTC)))  # e.g. a newer version's
    assert store.note_append(chat, TURN) is not None
    store.close()
    reopened = _open(tmp_path)
    assert _texts(reopened, chat) == ["Hello", "Hi"]
    assert _journals(tmp_path) == []
    reopened.close()
