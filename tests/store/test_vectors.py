"""The Data Bank's chunk vectors on SQLite and PostgreSQL: kept per model, only for the
chunks a chat may use, one per chunk and model, gone with their document."""

from __future__ import annotations

import struct

from pytavern.store import Store
from pytavern.store.vectors import (
    ChunkScope,
    chunks_without_vectors,
    save_vectors,
    stored_vectors,
)
from tests.store.test_search import chat_with


def packed(*values: float) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def test_vectors_are_kept_per_model_for_the_chunks_in_reach(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["Hello."])
    other_chat = chat_with(store, "Bo", ["Hi."])
    ann = store.get_chat(chat_id).character_id
    store.add_document("Everyone", "t", ["Lighthouse.", "Harbour."])
    store.add_document("Ann's", "t", ["Ann's lamp."], character_id=ann)
    store.add_document("Bo's chat", "t", ["Bo's boat."], chat_id=other_chat)
    scope = ChunkScope(store.owner_id, (ann,), chat_id)

    missing = chunks_without_vectors(store.engine, scope, "m/a", 10)
    assert [text for _id, text in missing] == ["Lighthouse.", "Harbour.", "Ann's lamp."]
    assert len(chunks_without_vectors(store.engine, scope, "m/a", 2)) == 2

    save_vectors(
        store.engine, "m/a", [(missing[0][0], packed(1, 0)), (missing[2][0], packed(0, 1))]
    )
    left = chunks_without_vectors(store.engine, scope, "m/a", 10)
    assert [text for _id, text in left] == ["Harbour."]
    assert len(chunks_without_vectors(store.engine, scope, "m/b", 10)) == 3  # another model

    stored = {v.text: v for v in stored_vectors(store.engine, scope, "m/a")}
    assert set(stored) == {"Lighthouse.", "Ann's lamp."}
    assert stored["Lighthouse."].vector == packed(1, 0)
    assert stored["Ann's lamp."].document == "Ann's"
    assert stored_vectors(store.engine, scope, "m/b") == []


def test_a_vector_already_made_stays_and_a_deleted_chunk_is_skipped(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["Hello."])
    document = store.add_document("Everyone", "t", ["Lighthouse."])
    scope = ChunkScope(store.owner_id, (), chat_id)
    ((chunk, _text),) = chunks_without_vectors(store.engine, scope, "m", 10)
    save_vectors(store.engine, "m", [(chunk, packed(1, 2))])
    save_vectors(store.engine, "m", [(chunk, packed(3, 4)), (chunk + 1000, packed(5, 6))])
    (kept,) = stored_vectors(store.engine, scope, "m")
    assert kept.vector == packed(1, 2)

    store.delete_document(document.id)
    assert stored_vectors(store.engine, scope, "m") == []
    with store.engine.connect() as connection:
        remaining = connection.exec_driver_sql("SELECT count(*) FROM chunk_vectors").scalar()
    assert remaining == 0


def test_one_documents_chunks_and_only_enabled_documents(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["Hello."])
    first = store.add_document("First", "t", ["One.", "Two."])
    second = store.add_document("Second", "t", ["Three."])
    of_first = ChunkScope(store.owner_id, document_id=first.id)
    assert [t for _i, t in chunks_without_vectors(store.engine, of_first, "m", 10)] == [
        "One.",
        "Two.",
    ]
    store.set_document_enabled(second.id, False)
    in_reach = ChunkScope(store.owner_id, (), chat_id)
    assert [t for _i, t in chunks_without_vectors(store.engine, in_reach, "m", 10)] == [
        "One.",
        "Two.",
    ]


def test_another_owners_documents_are_out_of_reach(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["Hello."])
    document = store.add_document("Mine", "t", ["Mine."])
    stranger = ChunkScope(store.owner_id + 1, (), chat_id)
    assert chunks_without_vectors(store.engine, stranger, "m", 10) == []
    of_document = ChunkScope(store.owner_id + 1, document_id=document.id)
    assert chunks_without_vectors(store.engine, of_document, "m", 10) == []
