"""The Data Bank's vectors: chunks' embeddings, kept per model (``chunk_vectors``).

A vector is stored as little-endian float32 bytes under a model key (the connection and
model that made it), so changing the embedding model makes new vectors and keeps the old
ones for when it changes back. Deleting a chunk (its document) deletes its vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, Executable, bindparam, text

from pytavern.store.databank import IN_SCOPE
from pytavern.store.schema import ChunkVectorRow

_CHUNKS = "SELECT c.id, c.text FROM document_chunks c JOIN documents d ON d.id = c.document_id"
_NO_VECTOR = (
    "NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.chunk_id = c.id AND v.model = :model)"
)
_MISSING_IN_REACH = text(
    f"{_CHUNKS} WHERE {IN_SCOPE} AND {_NO_VECTOR} ORDER BY c.id LIMIT :limit"
).bindparams(bindparam("characters", expanding=True))
_MISSING_OF_DOCUMENT = text(
    f"{_CHUNKS} WHERE d.owner_id = :owner AND d.id = :document AND {_NO_VECTOR} "
    "ORDER BY c.id LIMIT :limit"
)
_STORED = text(
    "SELECT c.id, c.document_id, d.name, c.position, c.text, v.vector "
    "FROM chunk_vectors v JOIN document_chunks c ON c.id = v.chunk_id "
    f"JOIN documents d ON d.id = c.document_id WHERE v.model = :model AND {IN_SCOPE}"
).bindparams(bindparam("characters", expanding=True))
_CHUNK_IDS = text("SELECT id FROM document_chunks WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


@dataclass(frozen=True, slots=True)
class ChunkScope:
    """Which chunks: those of the owner's enabled documents a chat may use (global, of
    ``character_ids``, of ``chat_id``), or those of one document (``document_id``)."""

    owner_id: int
    character_ids: tuple[int, ...] = ()
    chat_id: int = -1
    document_id: int | None = None

    def params(self) -> dict[str, object]:
        """The parameters of the scope's condition."""
        if self.document_id is not None:
            return {"owner": self.owner_id, "document": self.document_id}
        characters = list(self.character_ids) or [-1]
        return {"owner": self.owner_id, "chat": self.chat_id, "characters": characters}


@dataclass(frozen=True, slots=True)
class StoredVector:
    """A chunk with its vector."""

    chunk_id: int
    document_id: int
    document: str
    position: int
    text: str
    vector: bytes


def chunks_without_vectors(
    engine: Engine, scope: ChunkScope, model: str, limit: int
) -> list[tuple[int, str]]:
    """At most ``limit`` chunks in ``scope`` that have no vector by ``model``: id and
    text, oldest first."""
    params = scope.params() | {"model": model, "limit": limit}
    statement = _MISSING_IN_REACH if scope.document_id is None else _MISSING_OF_DOCUMENT
    with engine.connect() as connection:
        rows = connection.execute(statement, params).all()
    return [(int(row.id), str(row.text)) for row in rows]


def stored_vectors(engine: Engine, scope: ChunkScope, model: str) -> list[StoredVector]:
    """The chunks in a chat's reach (``scope`` without a document) that have a vector by
    ``model``, with it."""
    params = scope.params() | {"model": model}
    with engine.connect() as connection:
        rows = connection.execute(_STORED, params).all()
    return [StoredVector(*row) for row in rows]


def save_vectors(engine: Engine, model: str, vectors: Sequence[tuple[int, bytes]]) -> None:
    """Keep each chunk's vector by ``model`` (one already there stays; a chunk deleted
    meanwhile is skipped)."""
    if not vectors:
        return
    rows = [{"chunk_id": chunk, "model": model, "vector": vector} for chunk, vector in vectors]
    with engine.begin() as connection:
        ids = {"ids": [chunk for chunk, _vector in vectors]}
        existing = {row[0] for row in connection.execute(_CHUNK_IDS, ids)}
        kept = [row for row in rows if row["chunk_id"] in existing]
        if kept:
            connection.execute(_insert_new(engine.dialect.name), kept)


def _insert_new(dialect: str) -> Executable:
    """An insert of vectors that leaves one already there (made by another turn)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(ChunkVectorRow).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(ChunkVectorRow).on_conflict_do_nothing()
