"""Finding the Data Bank's chunks by meaning (``DatabankSettings.by_meaning``).

The embeddings connection (``EmbeddingSettings``) turns texts into vectors
(``pytavern.providers.embeddings``).
A document's chunks get theirs when it is added; a turn embeds its query (the newest
messages), gives vectors to chunks still without one (at most ``MISSING_PER_TURN``), and
takes the ``results`` chunks closest to the query (cosine) at ``min_score`` or more. What
it found is kept on the turn (``TurnData.found``), so every build of the turn (a fallback
connection's too) uses it. Whatever fails, the turn goes on with the word match: the
failure is logged (never the chat's text).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pytavern.engine.connections import ProviderPool
from pytavern.engine.databank import documents_in_reach
from pytavern.engine.preferences import EmbeddingSettings, GenerationPreferences
from pytavern.engine.turn_loader import TurnData
from pytavern.errors import PytavernError
from pytavern.providers import get_spec
from pytavern.providers.embeddings import embed_texts
from pytavern.store import MessageRecord, Store
from pytavern.store.vectors import (
    ChunkScope,
    StoredVector,
    chunks_without_vectors,
    save_vectors,
    stored_vectors,
)

log = logging.getLogger("pytavern.databank")

LOOKUP_SECONDS = 30.0
"""The longest a turn waits for its lookup (the first request may load a local model)."""
MISSING_PER_TURN = 128
"""Chunks a turn gives vectors to at most (a large document gets its own when added)."""
PER_DOCUMENT = 4096
"""Chunks of one new document embedded at most when it is added (the rest by turns)."""


@dataclass(frozen=True, slots=True)
class Embedding:
    """The connection and model that make the vectors, and the key they are kept under."""

    provider: object
    model: str
    key: str


def searches_by_meaning(prefs: GenerationPreferences) -> bool:
    """Whether the Data Bank finds chunks by meaning: on, ``by_meaning``, a connection set."""
    databank = prefs.databank
    return databank.enabled and databank.by_meaning and bool(prefs.embeddings.connection)


async def embedding_for(pool: ProviderPool, settings: EmbeddingSettings) -> Embedding:
    """The embeddings connection and model of ``settings`` (one that does not exist is a
    ``PytavernError``)."""
    record = pool.resolve(settings.connection)
    provider = await pool.get(record)
    model = settings.model or get_spec(record.api).embedding_model or record.model or ""
    return Embedding(provider, model, f"{record.name}/{model}")


async def embed_document(
    store: Store,
    pool: ProviderPool,
    prefs: GenerationPreferences,
    document_id: int,
) -> int:
    """Make the vectors of a new document's chunks; how many were made (0 when the Data
    Bank matches by words or the connection failed: turns make them later)."""
    if not searches_by_meaning(prefs):
        return 0
    try:
        embedding = await embedding_for(pool, prefs.embeddings)
        scope = ChunkScope(store.owner_id, document_id=document_id)
        return await _fill(store, embedding, scope, PER_DOCUMENT)
    except PytavernError as error:
        log.warning("the Data Bank could not make a document's vectors: %s", error.message)
        return 0


async def find_by_meaning(
    store: Store,
    pool: ProviderPool,
    prefs: GenerationPreferences,
    newest: Sequence[MessageRecord],
    scope: ChunkScope,
) -> tuple[str, ...] | None:
    """The texts of the chunks in ``scope`` closest to the newest messages, or ``None``
    (search by words) when there is no query or the embeddings failed."""
    databank = prefs.databank
    query = query_text(newest, databank.query_messages)
    if not query:
        return None
    try:
        embedding = await embedding_for(pool, prefs.embeddings)
        async with asyncio.timeout(LOOKUP_SECONDS):
            await _fill(store, embedding, scope, MISSING_PER_TURN)
            (vector,) = await embed_texts(embedding.provider, [query], embedding.model)
    except (PytavernError, TimeoutError) as error:
        reason = error.message if isinstance(error, PytavernError) else "it took too long"
        log.warning("the Data Bank searched by words: embeddings failed: %s", reason)
        return None
    stored = await asyncio.to_thread(stored_vectors, store.engine, scope, embedding.key)
    found = closest(stored, vector, databank.results, databank.min_score)
    return tuple(chunk.text for chunk in found)


def query_text(newest: Sequence[MessageRecord], count: int) -> str:
    """The newest ``count`` messages the prompt may show (hidden ones skipped), oldest
    first, one per line: what the chunks are compared with."""
    texts: list[str] = []
    for message in reversed(newest):
        if len(texts) == count:
            break
        if not message.is_hidden and message.text.strip():
            texts.append(message.text.strip())
    return "\n".join(reversed(texts))


def closest(
    stored: Sequence[StoredVector], query: Sequence[float], limit: int, min_score: float
) -> list[StoredVector]:
    """At most ``limit`` of ``stored`` by cosine similarity to ``query``, closest first,
    each at ``min_score`` or more (vectors of another size than the query's are skipped)."""
    np = _numpy()
    wanted = np.asarray(query, dtype=np.float32)
    same = [chunk for chunk in stored if len(chunk.vector) == 4 * wanted.size]
    norm = float(np.linalg.norm(wanted))
    if not same or limit <= 0 or norm == 0.0:
        return []
    matrix = np.frombuffer(b"".join(chunk.vector for chunk in same), dtype="<f4")
    matrix = matrix.reshape(len(same), wanted.size)
    norms = np.linalg.norm(matrix, axis=1)
    scores = (matrix @ wanted) / np.where(norms == 0.0, 1.0, norms) / norm
    scores[norms == 0.0] = -np.inf  # no direction: close to nothing
    order = np.argsort(-scores, kind="stable")[:limit]
    return [same[int(i)] for i in order if scores[int(i)] >= min_score]


def vector_bytes(vector: Sequence[float]) -> bytes:
    """A vector as it is stored: little-endian float32."""
    encoded: bytes = _numpy().asarray(vector, dtype="<f4").tobytes()
    return encoded


def _numpy() -> Any:
    """numpy, imported on first use (not at the server's start)."""
    import numpy

    return numpy


async def _fill(store: Store, embedding: Embedding, scope: ChunkScope, limit: int) -> int:
    """Give vectors to at most ``limit`` chunks in ``scope`` that have none by the model."""
    missing = await asyncio.to_thread(
        chunks_without_vectors, store.engine, scope, embedding.key, limit
    )
    if not missing:
        return 0
    texts = [text for _id, text in missing]
    vectors = await embed_texts(embedding.provider, texts, embedding.model)
    made = [(chunk, vector_bytes(v)) for (chunk, _text), v in zip(missing, vectors, strict=True)]
    await asyncio.to_thread(save_vectors, store.engine, embedding.key, made)
    return len(made)


async def find_for_turn(store: Store, pool: ProviderPool, turn: TurnData) -> None:
    """Search the Data Bank by meaning for ``turn`` when its settings ask for it and a
    document is in reach; what is found is kept in ``turn.found``."""
    prefs = turn.preferences
    if not searches_by_meaning(prefs) or turn.request.mode == "summarize":
        return
    characters = turn.characters
    if not documents_in_reach(store, turn.library_revision, characters, turn.chat.id):
        return
    scope = ChunkScope(store.owner_id, characters, turn.chat.id)
    turn.found.texts = await find_by_meaning(store, pool, prefs, turn.newest, scope)
