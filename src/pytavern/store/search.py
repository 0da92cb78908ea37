"""Full-text search over the shown text of every message, newest first.

SQLite answers from the FTS5 table ``swipes_fts``, PostgreSQL from the ``swipes.text_tsv``
column (migration ``0006_search``). SQLite's triggers note new and changed texts in
``swipes_fts_pending`` (migration ``0011_search_later``): ``index_pending`` indexes them in
one statement before every search, and in bounded batches every few hundred turns. Only the
swipe a message shows is found. The words asked for must all appear (any order);
punctuation in the query is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine, text

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 16

_COLUMNS = (
    "s.id AS swipe_id, m.id AS message_id, m.chat_id, m.position, m.role, m.name, "
    "c.title, c.character_id, ch.name AS character_name, s.text"
)
_JOINS = (
    "JOIN messages m ON m.id = s.message_id AND m.active_swipe = s.swipe_index "
    "JOIN chats c ON c.id = m.chat_id JOIN characters ch ON ch.id = c.character_id"
)
_SQLITE = (
    f"SELECT {_COLUMNS} FROM swipes_fts f JOIN swipes s ON s.id = f.rowid {_JOINS} "
    "WHERE swipes_fts MATCH :match AND c.owner_id = :owner {extra} "
    "ORDER BY f.rowid DESC LIMIT :limit"
)
_POSTGRES = (
    f"SELECT {_COLUMNS} FROM swipes s {_JOINS} "
    "WHERE s.text_tsv @@ plainto_tsquery('simple', :match) AND c.owner_id = :owner {extra} "
    "ORDER BY s.id DESC LIMIT :limit"
)


_OLDEST_PENDING = "SELECT swipe_id FROM swipes_fts_pending ORDER BY swipe_id LIMIT :limit"
_INDEX_OLDEST = (
    "INSERT INTO swipes_fts(rowid, text) SELECT s.id, s.text FROM swipes s "
    f"WHERE s.id IN ({_OLDEST_PENDING})"
)
_CLEAR_OLDEST = f"DELETE FROM swipes_fts_pending WHERE swipe_id IN ({_OLDEST_PENDING})"
_NO_LIMIT = -1
"""SQLite's ``LIMIT`` for all rows."""


def index_pending(engine: Engine, limit: int | None = None) -> None:
    """Index the texts SQLite's triggers noted since the last time, or only the ``limit``
    oldest of them (one transaction; a no-op on PostgreSQL, whose generated column is
    always current). A search indexes them all first; a pass between turns takes a bounded
    batch, so a large import's backlog never stalls the server at once."""
    if engine.dialect.name != "sqlite":
        return
    bound = {"limit": _NO_LIMIT if limit is None else limit}
    with engine.begin() as connection:
        if connection.execute(text("SELECT 1 FROM swipes_fts_pending LIMIT 1")).first():
            connection.execute(text(_INDEX_OLDEST), bound)
            connection.execute(text(_CLEAR_OLDEST), bound)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One message that holds every word searched for."""

    message_id: int
    chat_id: int
    position: int
    role: str
    name: str
    chat_title: str
    character_id: int
    character_name: str
    text: str


def query_words(query: str) -> list[str]:
    """The words of a search query (what is matched; at most ``MAX_WORDS``)."""
    return _WORD.findall(query)[:MAX_WORDS]


def any_word_match(words: list[str], sqlite: bool) -> str:
    """A query matching texts that hold any of ``words`` (plain words: letters, digits,
    ``_``): FTS5's ``MATCH`` on SQLite, ``to_tsquery`` on PostgreSQL."""
    if sqlite:
        return " OR ".join(f'"{word}"' for word in words)
    return " | ".join(f"'{word}'" for word in words)


def _fts5_match(words: list[str]) -> str:
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def search_messages(
    engine: Engine,
    owner_id: int,
    query: str,
    *,
    character_id: int | None = None,
    limit: int = 50,
) -> list[SearchHit]:
    """Messages of ``owner_id``'s chats holding every word of ``query``, newest first."""
    words = query_words(query)
    if not words:
        return []
    sqlite = engine.dialect.name == "sqlite"
    extra = "AND c.character_id = :character" if character_id is not None else ""
    sql = (_SQLITE if sqlite else _POSTGRES).format(extra=extra)
    params: dict[str, object] = {
        "match": _fts5_match(words) if sqlite else " ".join(words),
        "owner": owner_id,
        "limit": max(1, min(limit, 500)),
        "character": character_id,
    }
    index_pending(engine)
    with engine.connect() as connection:
        rows = connection.execute(text(sql), params).all()
    return [
        SearchHit(
            message_id=row.message_id,
            chat_id=row.chat_id,
            position=row.position,
            role=row.role,
            name=row.name,
            chat_title=row.title,
            character_id=row.character_id,
            character_name=row.character_name,
            text=row.text,
        )
        for row in rows
    ]
