"""A turn's first write, noted in a file before anyone sees its text, committed right after.

The reply's first text (with the user's message, when it waits) must be kept before a
client is shown it. Committing it to SQLite on the way to the first token costs about
0.2 ms (the position claim, two messages and their swipes, the WAL frames of the commit);
appending one line to a file costs a few microseconds. So the line is written first, the
text goes out, and the transaction commits right after; a second, shorter line then says
so, and the file is emptied when it has grown past ``EMPTIED_PAST`` and nothing noted waits.

Both survive what SQLite's WAL with ``synchronous=NORMAL`` survives: a killed or crashed
process (the line is in the operating system's hands once ``write`` returns), not a lost
power supply. A process keeps its own file, locked while it lives; whoever opens the
database next takes the files of processes that have gone and commits what they hold
(``NotedWritesMixin.replay_journals``). A noted write is committed at most once: its
messages carry the time the line gave them, and a chat that already has a message of that
time has it.
"""

from __future__ import annotations

import glob
import logging
import os
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from pytavern.store.records import AddedMessage

if sys.platform != "win32":
    import fcntl

log = logging.getLogger(__name__)

JOURNAL_SUFFIX = ".journal"
EMPTIED_PAST = 256 * 1024
"""Bytes past which a journal is emptied once nothing noted waits (emptying a file costs
the system more than appending a line)."""


@dataclass(frozen=True, slots=True)
class NotedWrite:
    """Messages to append to a chat, noted in the journal and not committed yet."""

    chat_id: int
    owner_id: int
    messages: tuple[AddedMessage, ...]
    at: datetime
    """The messages' creation time: what tells a committed write from one that is not."""


def journal_for(engine: Engine) -> TurnJournal | None:
    """A journal beside a SQLite database file; none for PostgreSQL (whose commit is
    what the first token waits for), a database in memory, or on Windows."""
    if sys.platform == "win32":  # no ``flock``: the first write commits before it is shown
        return None
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database.startswith(":memory:"):
        return None
    return TurnJournal(Path(database).resolve())


def journals_of(database: Path) -> list[Path]:
    """The journals of the SQLite file ``database`` (``<name>-turns-<pid>-<n>.journal``
    beside it), of every process."""
    pattern = f"{glob.escape(database.name)}-turns-*{JOURNAL_SUFFIX}"
    return sorted(database.parent.glob(pattern))


class TurnJournal:
    """This process's journal for one database: a file it creates on the first note."""

    def __init__(self, database: Path) -> None:
        self._database = database
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._count = 0
        self._waiting: dict[int, tuple[int, NotedWrite]] = {}
        self._lock = threading.Lock()

    @property
    def database(self) -> Path:
        """The SQLite file whose writes this journal notes."""
        return self._database

    @property
    def waiting(self) -> list[NotedWrite]:
        """The noted writes not committed yet, oldest first."""
        with self._lock:
            return [noted for _number, noted in self._waiting.values()]

    def note(self, noted: NotedWrite) -> None:
        """Append ``noted`` to the file (``OSError`` if it cannot be: write it at once)."""
        with self._lock:
            number = self._count + 1
            self._append(orjson.dumps(_as_json(noted, number)) + b"\n")
            self._count = number
            self._waiting[id(noted)] = (number, noted)

    def settled(self, noted: NotedWrite) -> None:
        """``noted`` is committed (or its chat is gone): forget it; the file says so, and is
        emptied once it is long and nothing noted waits. A line that cannot be written is
        only logged: the next opener finds the write committed and leaves it."""
        with self._lock:
            waited = self._waiting.pop(id(noted), None)
            if waited is None or self._fd is None:  # closed meanwhile: left to the next
                return
            try:
                if self._waiting or self._size < EMPTIED_PAST:
                    self._append(b'{"settled":%d}\n' % waited[0])
                else:
                    os.ftruncate(self._fd, 0)
                    self._size = 0
            except OSError as exc:
                log.warning("the turn journal could not be written (%s)", exc)

    def close(self) -> None:
        """Close the file: removed when nothing waits, else left for the next opener."""
        with self._lock:
            fd, path, self._fd, self._path = self._fd, self._path, None, None
            if fd is None or path is None:
                return
            if not self._waiting:
                path.unlink(missing_ok=True)
            os.close(fd)  # releases the lock: the next opener takes what waits

    def _append(self, line: bytes) -> None:
        fd = self._fd if self._fd is not None else self._open()
        if os.write(fd, line) != len(line):
            os.ftruncate(fd, self._size)  # a short write (a full disk): no torn line
            raise OSError("the turn journal could not be written")
        self._size += len(line)

    def _open(self) -> int:
        name = f"{self._database.name}-turns-{os.getpid()}-{secrets.token_hex(4)}{JOURNAL_SUFFIX}"
        path = self._database.with_name(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else holds it
        self._fd, self._path = fd, path
        return fd


@contextmanager
def abandoned_journal(path: Path) -> Iterator[list[NotedWrite] | None]:
    """The writes noted in the journal at ``path`` if its process has gone (its lock can
    be taken), else ``None``; the file is removed when the block ends without an error."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:  # taken by another opener meanwhile
        yield None
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # its process lives
            yield None
            return
        yield read_journal(path)
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)


def drop_abandoned_journals(database: Path) -> int:
    """Remove the journals of ``database`` whose processes have gone (it is being replaced:
    what they noted belongs to the old one); the number of writes dropped, logged."""
    dropped = 0
    for path in journals_of(database):
        with abandoned_journal(path) as noted:
            dropped += len(noted or ())
    if dropped:
        log.warning("%d chat writes noted for a replaced database were dropped", dropped)
    return dropped


def read_journal(path: Path) -> list[NotedWrite]:
    """The writes noted in a journal file and not settled; a line that cannot be read is
    logged and skipped (a torn last line: the write it began never returned)."""
    noted: dict[int, NotedWrite] = {}
    for line_number, line in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            data = orjson.loads(line)
            if "settled" in data:
                noted.pop(int(data["settled"]), None)
            else:
                noted[int(data["n"])] = _from_json(data)
        except (ValueError, KeyError, TypeError):
            log.warning("line %d of %s could not be read: skipped", line_number, path.name)
    return list(noted.values())


def _as_json(noted: NotedWrite, number: int) -> dict[str, Any]:
    return {
        "n": number,
        "chat": noted.chat_id,
        "owner": noted.owner_id,
        "at": noted.at.isoformat(),
        "messages": [
            {
                "role": message.role,
                "name": message.name,
                "text": message.text,
                "status": message.status,
                "extra": message.extra,
                "fields": message.swipe_fields,
            }
            for message in noted.messages
        ],
    }


def _from_json(data: dict[str, Any]) -> NotedWrite:
    messages = tuple(
        AddedMessage(
            str(item["role"]),
            str(item["name"]),
            str(item["text"]),
            item["status"],
            item["extra"],
            dict(item["fields"]),
        )
        for item in data["messages"]
    )
    at = datetime.fromisoformat(data["at"])
    return NotedWrite(int(data["chat"]), int(data["owner"]), messages, at)
