"""The messages of one chat that share the most words with a text, best first.

What the prompt's recall (``pytavern.engine.recall``) puts back into a prompt from earlier
in a chat: ranked by SQLite FTS5's BM25 or PostgreSQL's ``ts_rank`` over the same indexes
as search (``pytavern.store.search``), any word matching. Only shown swipes are found, and
only messages before a position (those the prompt's history no longer holds).

On SQLite the lookup asks only for the ``RAREST_WORDS`` rarest words that are not in more
than ``COMMON_SHARE`` of all indexed texts (FTS5's own counts, through a per-connection
``fts5vocab`` table): BM25 gives such common words almost no weight anyway, while matching
one makes SQLite rank every text that holds it, across all chats (~90 ms per 100,000).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, bindparam, text

from pytavern.store._base import loads
from pytavern.store.records import hidden_in
from pytavern.store.search import any_word_match, index_pending

_SELECT = "SELECT m.position, m.role, m.name, m.extra, s.text"
_JOIN = "JOIN messages m ON m.id = s.message_id AND m.active_swipe = s.swipe_index"
_WHERE = "m.chat_id = :chat AND m.position < :before"
_SQLITE = (
    f"{_SELECT} FROM swipes_fts f JOIN swipes s ON s.id = f.rowid {_JOIN} "
    f"WHERE swipes_fts MATCH :match AND {_WHERE} ORDER BY bm25(swipes_fts) LIMIT :limit"
)
_POSTGRES = (
    f"{_SELECT} FROM swipes s {_JOIN} "
    f"WHERE s.text_tsv @@ to_tsquery('simple', :match) AND {_WHERE} "
    "ORDER BY ts_rank(s.text_tsv, to_tsquery('simple', :match)) DESC, m.position DESC "
    "LIMIT :limit"
)
CANDIDATES_PER_RESULT = 4
"""Rows read per message wanted (hidden and empty ones are skipped after the query)."""
RAREST_WORDS = 8
COMMON_SHARE = 0.2
MIN_COMMON_DOCS = 50
"""A word is too common to look up when more than ``COMMON_SHARE`` of the indexed texts,
and more than this many, hold it."""
_VOCAB = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.swipes_fts_vocab "
    "USING fts5vocab(main, swipes_fts, 'row')"
)
_COUNTS = text("SELECT term, doc FROM temp.swipes_fts_vocab WHERE term IN :terms").bindparams(
    bindparam("terms", expanding=True)
)


@dataclass(frozen=True, slots=True)
class RecalledMessage:
    """One earlier message of the chat, as found."""

    position: int
    role: str
    name: str
    text: str


def recall_messages(
    engine: Engine, chat_id: int, words: list[str], *, before: int, limit: int
) -> list[RecalledMessage]:
    """At most ``limit`` messages of chat ``chat_id`` at positions below ``before`` holding
    any of ``words`` (plain words: letters, digits, ``_``), the best match first; messages
    hidden from the prompt are skipped."""
    if not words or before <= 0 or limit <= 0:
        return []
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        index_pending(engine)
    with engine.connect() as connection:
        if sqlite:
            words = _telling_words(connection, words)
            if not words:
                return []
        params = {
            "match": any_word_match(words, sqlite),
            "chat": chat_id,
            "before": before,
            "limit": limit * CANDIDATES_PER_RESULT,
        }
        rows = connection.execute(text(_SQLITE if sqlite else _POSTGRES), params).all()
    found = [
        RecalledMessage(row.position, row.role, row.name, row.text)
        for row in rows
        if row.text.strip() and not _hidden(row.extra)
    ]
    return found[:limit]


def _telling_words(connection: Connection, words: list[str]) -> list[str]:
    """The ``RAREST_WORDS`` rarest of ``words`` that some texts hold and not too many, as
    FTS5 indexed them (lower case, diacritics removed: ``unicode61``'s defaults)."""
    terms = list(dict.fromkeys(_as_indexed(word) for word in words))
    connection.execute(text(_VOCAB))
    total = connection.execute(text("SELECT max(rowid) FROM swipes_fts")).scalar() or 0
    ceiling = max(MIN_COMMON_DOCS, total * COMMON_SHARE)
    counts = {
        str(row.term): int(row.doc)
        for row in connection.execute(_COUNTS, {"terms": terms})
        if 0 < row.doc <= ceiling
    }
    return sorted(counts, key=lambda term: counts[term])[:RAREST_WORDS]


def _as_indexed(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _hidden(extra: str) -> bool:
    """Whether a message is hidden from the prompt (its ``extra`` as stored)."""
    try:
        return hidden_in(loads(extra))
    except ValueError:
        return False
