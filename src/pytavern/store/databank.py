"""The Data Bank: documents the prompt draws on, kept in chunks with a word index.

A document belongs to every chat (global), to a character's chats, or to one chat; it is
stored whole (``documents.text``) and in the chunks it was cut into (``document_chunks``),
which the word index covers (FTS5 on SQLite, ``text_tsv`` on PostgreSQL). ``find_chunks``
returns the chunks of the documents a chat may use that hold any of some words, best match
first (BM25 on SQLite, ``ts_rank`` on PostgreSQL). Writing a document moves the library
revision on (``DocumentRow`` is a library row), so a turn knows from that revision alone
whether anything changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Engine, bindparam, delete, func, select, text, true
from sqlalchemy.orm import Session

from pytavern.errors import NotFoundError
from pytavern.store._base import StoreBase
from pytavern.store.schema import DocumentChunkRow, DocumentRow, utcnow
from pytavern.store.search import any_word_match

DocumentScope = Literal["global", "character", "chat"]

_FOUND = "SELECT c.document_id, d.name, c.position, c.text"
IN_SCOPE = (
    "d.owner_id = :owner AND d.enabled "
    "AND (d.chat_id = :chat OR (d.chat_id IS NULL "
    "AND (d.character_id IS NULL OR d.character_id IN :characters)))"
)
"""The documents a chat may use (``:owner``, ``:chat``, expanding ``:characters``)."""
_SQLITE = text(
    f"{_FOUND} FROM document_chunks_fts f JOIN document_chunks c ON c.id = f.rowid "
    "JOIN documents d ON d.id = c.document_id "
    f"WHERE document_chunks_fts MATCH :match AND {IN_SCOPE} "
    "ORDER BY bm25(document_chunks_fts) LIMIT :limit"
).bindparams(bindparam("characters", expanding=True))
_POSTGRES = text(
    f"{_FOUND} FROM document_chunks c JOIN documents d ON d.id = c.document_id "
    f"WHERE c.text_tsv @@ to_tsquery('simple', :match) AND {IN_SCOPE} "
    "ORDER BY ts_rank(c.text_tsv, to_tsquery('simple', :match)) DESC, c.id LIMIT :limit"
).bindparams(bindparam("characters", expanding=True))


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """A stored document, without its text (``document_text`` reads it)."""

    id: int
    name: str
    character_id: int | None
    chat_id: int | None
    enabled: bool
    length: int
    """How long its text is, in characters."""
    chunks: int
    created_at: datetime

    @property
    def scope(self) -> DocumentScope:
        """Whose it is: every chat's, a character's chats', or one chat's."""
        if self.chat_id is not None:
            return "chat"
        return "character" if self.character_id is not None else "global"


@dataclass(frozen=True, slots=True)
class FoundChunk:
    """A chunk of a document, as a lookup found it."""

    document_id: int
    document: str
    position: int
    text: str


def _not_found(document_id: int) -> NotFoundError:
    return NotFoundError(
        f"no document with id {document_id}", hint="List the Data Bank's documents to see ids"
    )


class DatabankMixin(StoreBase):
    """Data Bank storage."""

    def add_document(
        self,
        name: str,
        text_: str,
        chunks: Sequence[str],
        *,
        character_id: int | None = None,
        chat_id: int | None = None,
        created_at: datetime | None = None,
    ) -> DocumentRecord:
        """Store a document and its chunks (one transaction): global, or ``character_id``'s,
        or ``chat_id``'s (the caller checks the owner has that character or chat); made
        now unless ``created_at`` says when (an import)."""
        with self.transaction() as session:
            row = DocumentRow(
                owner_id=self.owner_id,
                character_id=character_id,
                chat_id=chat_id,
                name=name,
                text=text_,
                enabled=True,
                created_at=created_at or utcnow(),
            )
            session.add(row)
            session.flush()
            session.add_all(
                DocumentChunkRow(document_id=row.id, position=index, text=chunk)
                for index, chunk in enumerate(chunks)
            )
            document_id = row.id
        return self.get_document(document_id)

    def list_documents(
        self, *, character_ids: Iterable[int] = (), chat_id: int | None = None
    ) -> list[DocumentRecord]:
        """The global documents, those of ``character_ids`` and those of ``chat_id``, by
        scope (global, character, chat) then name."""
        scope = (DocumentRow.character_id.is_(None) & DocumentRow.chat_id.is_(None)) | (
            DocumentRow.chat_id.is_(None) & DocumentRow.character_id.in_(list(character_ids))
        )
        if chat_id is not None:
            scope = scope | (DocumentRow.chat_id == chat_id)
        return self._documents(scope)

    def all_documents(self) -> list[DocumentRecord]:
        """Every document of the owner, by scope then name."""
        return self._documents(true())

    def _documents(self, scope: ColumnElement[bool]) -> list[DocumentRecord]:
        chunks = (
            select(DocumentChunkRow.document_id, func.count().label("chunks"))
            .group_by(DocumentChunkRow.document_id)
            .subquery()
        )
        query = (
            select(
                DocumentRow.id,
                DocumentRow.name,
                DocumentRow.character_id,
                DocumentRow.chat_id,
                DocumentRow.enabled,
                func.length(DocumentRow.text).label("length"),
                func.coalesce(chunks.c.chunks, 0).label("chunks"),
                DocumentRow.created_at,
            )
            .outerjoin(chunks, chunks.c.document_id == DocumentRow.id)
            .where(DocumentRow.owner_id == self.owner_id, scope)
        )
        with self.transaction() as session:
            records = [DocumentRecord(*row) for row in session.execute(query)]
        order = {"global": 0, "character": 1, "chat": 2}
        return sorted(records, key=lambda d: (order[d.scope], d.name.casefold(), d.id))

    def get_document(self, document_id: int) -> DocumentRecord:
        """The document with this id."""
        found = self._documents(DocumentRow.id == document_id)
        if not found:
            raise _not_found(document_id)
        return found[0]

    def document_text(self, document_id: int) -> str:
        """A document's whole text."""
        with self.transaction() as session:
            return self._owned_document(session, document_id).text

    def set_document_enabled(self, document_id: int, enabled: bool) -> DocumentRecord:
        """Let the prompt use the document (``enabled``) or leave it out."""
        with self.transaction() as session:
            self._owned_document(session, document_id).enabled = enabled
        return self.get_document(document_id)

    def delete_document(self, document_id: int) -> None:
        """Delete a document and its chunks."""
        with self.transaction() as session:
            row = self._owned_document(session, document_id)
            chunks = delete(DocumentChunkRow).where(DocumentChunkRow.document_id == document_id)
            session.execute(chunks)
            session.delete(row)

    def _owned_document(self, session: Session, document_id: int) -> DocumentRow:
        row = self.owned(session, DocumentRow, document_id)
        if row is None:
            raise _not_found(document_id)
        return row

    def databank_scopes(self) -> tuple[bool, frozenset[int], frozenset[int]]:
        """Where the owner has enabled documents: any global one, the characters and the
        chats that have some (what a turn checks before it looks anything up)."""
        query = select(DocumentRow.character_id, DocumentRow.chat_id).where(
            DocumentRow.owner_id == self.owner_id, DocumentRow.enabled
        )
        with self.transaction() as session:
            rows = session.execute(query.distinct()).all()
        has_global = any(r.character_id is None and r.chat_id is None for r in rows)
        characters = frozenset(
            r.character_id for r in rows if r.character_id is not None and r.chat_id is None
        )
        chats = frozenset(r.chat_id for r in rows if r.chat_id is not None)
        return has_global, characters, chats


def find_chunks(
    engine: Engine,
    owner_id: int,
    words: list[str],
    *,
    character_ids: Sequence[int],
    chat_id: int,
    limit: int,
) -> list[FoundChunk]:
    """At most ``limit`` chunks holding any of ``words`` (plain words: letters, digits,
    ``_``), best match first, from the owner's enabled documents that are global, of
    ``character_ids`` or of ``chat_id``."""
    if not words or limit <= 0:
        return []
    sqlite = engine.dialect.name == "sqlite"
    params = {
        "match": any_word_match(words, sqlite),
        "owner": owner_id,
        "chat": chat_id,
        "characters": list(character_ids) or [-1],
        "limit": limit,
    }
    with engine.connect() as connection:
        rows = connection.execute(_SQLITE if sqlite else _POSTGRES, params).all()
    return [FoundChunk(row.document_id, row.name, row.position, row.text) for row in rows]
