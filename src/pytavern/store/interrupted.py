"""Replies an earlier process left streaming, marked ``interrupted`` when a server starts.

A reply is stored with its first text (``status='incomplete'``, no ``finish_reason``) and
finished by its last write, which always sets a ``finish_reason`` (``stop``, ``length``,
``cancelled``, ``error``...). A process killed in between (a crash, a power cut, SIGKILL)
leaves the reply that way: the chat keeps its text, marked incomplete, but SQLite's search
index takes finished swipes only (migration ``0010_search_finished``), so the text was
never found. A server that starts gives such swipes ``finish_reason='interrupted'``: the
triggers note them for the index like any finished swipe, and their chats' revisions move
on (a context cache reloads them).

Only swipes that existed when the server started are marked (``newest_swipe_id``); a reply
begun after that is left to its own last write. SQLite only: one server holds a data
folder (its pid file), and PostgreSQL's search column indexes every text as it is written,
while several servers may share one database and stream at the same time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sqlalchemy import Engine, text

INTERRUPTED = "interrupted"
"""The ``finish_reason`` of a reply whose process ended while it streamed."""

_STREAMING = "swipes.status = 'incomplete' AND swipes.finish_reason IS NULL AND swipes.id <= :up_to"
_BUMP_CHATS = (
    "UPDATE chats SET revision = revision + 1 WHERE id IN (SELECT m.chat_id FROM messages m "
    f"JOIN swipes ON swipes.message_id = m.id WHERE {_STREAMING})"
)
_MARK = f"UPDATE swipes SET finish_reason = '{INTERRUPTED}' WHERE {_STREAMING}"
# Plain SQL: compiling Core statements the first time costs a server's start ~30 ms.


def newest_swipe_id(engine: Engine) -> int:
    """The highest swipe id now (0 in an empty database)."""
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT max(id) FROM swipes")) or 0)


def mark_interrupted(engine: Engine, up_to: int) -> int:
    """Mark the swipes with ids up to ``up_to`` that are still streaming (incomplete, no
    ``finish_reason``) as ``interrupted``, in one transaction; how many were marked.
    A no-op on PostgreSQL (see the module's note)."""
    if engine.dialect.name != "sqlite":
        return 0
    bound = {"up_to": up_to}
    with engine.begin() as connection:
        connection.execute(text(_BUMP_CHATS), bound)
        return int(connection.execute(text(_MARK), bound).rowcount)


def marker_at_start(engine: Engine) -> Callable[[], int]:
    """What a starting server runs (in a thread): ``mark_interrupted`` of the swipes that
    exist now. On PostgreSQL there is nothing to mark, and nothing is read."""
    if engine.dialect.name != "sqlite":
        return lambda: 0
    return partial(mark_interrupted, engine, newest_swipe_id(engine))
