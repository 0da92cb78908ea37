"""Owner-only storage: the data folder is 0700 and every file in it 0600.

Chats are private: no other account on the machine may read them. ``secure_data_dir`` creates
the folder owner-only, tightens one that is not (saying so in one line), and warns when it
cannot. Tightening takes away only the group's and others' permissions (a 0755 folder becomes
0700, a 0644 file 0600, an executable keeps its owner's execute bit). SQLite creates its
``-wal`` and ``-shm`` files with the mode of the database file, so ``create_private_file``
makes the database 0600 before SQLite first opens it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO

log = logging.getLogger("pytavern.storage")


def is_private(path: Path) -> bool:
    """True when neither the group nor other accounts have any access to ``path``."""
    return not path.stat().st_mode & _OTHERS


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as an owner-only folder; tighten it if it exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if not is_private(path):
        path.chmod(DIR_MODE)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (never truncates)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(descriptor)


def _loose_entries(root: Path) -> list[Path]:
    """``root`` and everything under it that the group or others can access."""
    loose = [root] if not is_private(root) else []
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            entry = Path(folder) / name
            mode = entry.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & _OTHERS:
                loose.append(entry)
    return loose


def _tighten(entry: Path) -> bool:
    """Take every permission away from group and others; the owner's stay as they are."""
    try:
        entry.chmod(stat.S_IMODE(entry.stat().st_mode) & ~_OTHERS)
    except OSError:
        return False
    return True


def secure_data_dir(data_dir: Path) -> list[str]:
    """Make ``data_dir`` owner-only (folders 0700, files 0600); return what was said.

    A new folder is created 0700. An existing folder readable by others is tightened with a
    one-line notice; when that fails (another owner, a read-only mount) a warning says so.
    Both go to the ``pytavern.storage`` logger (stderr when logging is not configured).
    """
    if not data_dir.exists():
        make_private_dir(data_dir)
        return []
    loose = _loose_entries(data_dir)
    if not loose:
        return []
    failed = [entry for entry in loose if not _tighten(entry)]
    messages: list[str] = []
    fixed = len(loose) - len(failed)
    if fixed:
        messages.append(
            f"pytavern: made {data_dir} private (owner-only access on {fixed} "
            f"{'entry' if fixed == 1 else 'entries'}; other accounts could read it)"
        )
    if failed:
        messages.append(
            f"pytavern: warning: {data_dir} is readable by other accounts and could not be "
            f"made private ({failed[0]}{' and more' if len(failed) > 1 else ''}); move the "
            "data folder somewhere you own (PYTAVERN_DATA_DIR) or fix its permissions"
        )
    for message in messages:
        log.warning(message)
    return messages


def private_sqlite_file(path: Path) -> None:
    """Prepare a SQLite database file owner-only, with its ``-wal`` and ``-shm`` files."""
    make_private_dir(path.parent)
    create_private_file(path)
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists() and not is_private(companion):
            _tighten(companion)
