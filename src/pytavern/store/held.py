"""One SQLite connection kept open for the event loop's thread.

A chat turn runs three short transactions on the event loop's thread. Taking a connection
from SQLAlchemy's pool and handing it back costs each of them about as much as SQLite's
own work (checkout, a new ``Connection`` object, the reset on return). The loop's thread
runs one transaction at a time, so it keeps one connection open and begins its
transactions on it; every other thread, a transaction opened inside another, and
PostgreSQL (whose pool checks a connection before handing it out) use the pool as before.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine


class HeldConnection:
    """The engine's connection for the first thread that runs an event loop on it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._enabled = engine.dialect.name == "sqlite"
        self._connection: Connection | None = None
        self._thread: int | None = None
        self._lock = threading.Lock()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction, committed when the block ends (rolled back
        when it raises): the held one when this thread may use it, else the pool's."""
        held = self._usable()
        if held is None:
            with self._engine.begin() as connection:
                yield connection
            return
        with held.begin():
            yield held

    def close(self) -> None:
        """Give the held connection back (the engine is about to be disposed)."""
        with self._lock:
            connection, self._connection, self._thread = self._connection, None, None
        if connection is not None:
            connection.close()

    def _usable(self) -> Connection | None:
        if not self._enabled or asyncio._get_running_loop() is None:
            return None
        thread = threading.get_ident()
        if self._thread not in (None, thread):
            return None
        connection = self._connection
        if connection is None or connection.invalidated or connection.closed:
            connection = self._reconnect(thread)
        return None if connection.in_transaction() else connection

    def _reconnect(self, thread: int) -> Connection:
        with self._lock:
            old, self._connection = self._connection, self._engine.connect()
            self._thread = thread
        if old is not None:
            old.close()
        return self._connection
