"""The server's pid file: how ``restore`` knows a server is using the data folder."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from pytavern.secrets import write_private

LOCK_NAME = "server.pid"


def lock_path(data_dir: Path) -> Path:
    """Where a running server writes its pid."""
    return data_dir / LOCK_NAME


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_server(data_dir: Path) -> int | None:
    """The pid of a live server using ``data_dir``, or ``None`` (a stale file is ignored)."""
    try:
        info = json.loads(lock_path(data_dir).read_text("utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid if _alive(pid) else None


def _exit_on_terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _terminate_unwinds() -> Iterator[None]:
    """Make SIGTERM unwind the stack (running ``finally`` blocks) instead of killing.

    uvicorn handles SIGTERM itself, then raises it again with the handler that was there
    before it started; by default that ends the process without cleaning up.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def hold_server_lock(data_dir: Path, port: int) -> Iterator[None]:
    """Mark ``data_dir`` as served by this process for the duration of the block.

    The mark is removed when the block ends, also on SIGTERM.
    """
    path = lock_path(data_dir)
    info = {"pid": os.getpid(), "port": port, "started": datetime.now(UTC).isoformat()}
    write_private(path, json.dumps(info).encode("utf-8"))
    try:
        with _terminate_unwinds():
            yield
    finally:
        try:
            if json.loads(path.read_text("utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass
