"""The Data Bank's storage on SQLite (FTS5, BM25) and PostgreSQL (ts_rank): documents in
chunks, found by any word, only those a chat may use, only enabled ones, gone with their
character or chat, and each owner's own."""

from __future__ import annotations

from pytavern.store import Store
from pytavern.store.databank import find_chunks
from tests.store.test_search import chat_with


def found(store: Store, words: list[str], characters: list[int], chat_id: int) -> list[str]:
    chunks = find_chunks(
        store.engine, store.owner_id, words, character_ids=characters, chat_id=chat_id, limit=5
    )
    return [chunk.text for chunk in chunks]


def test_chunks_holding_more_of_the_words_come_first(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["Hello."])
    store.add_document(
        "Harbour",
        "whole text",
        [
            "The harbour has a lighthouse.",
            "The lighthouse keeper Orrin keeps the lighthouse lamp lit.",
            "Fish are sold at dawn.",
        ],
    )
    assert found(store, ["lighthouse", "orrin"], [], chat_id) == [
        "The lighthouse keeper Orrin keeps the lighthouse lamp lit.",
        "The harbour has a lighthouse.",
    ]
    assert found(store, ["dawn"], [], chat_id) == ["Fish are sold at dawn."]
    assert found(store, ["dragon"], [], chat_id) == []
    assert found(store, [], [], chat_id) == []


def test_a_chat_finds_global_its_characters_and_its_own_documents(store: Store) -> None:
    ann_chat = chat_with(store, "Ann", ["Hello."])
    bo_chat = chat_with(store, "Bo", ["Hi."])
    ann = store.get_chat(ann_chat).character_id
    bo = store.get_chat(bo_chat).character_id
    store.add_document("Everyone", "t", ["A lantern for everyone."])
    store.add_document("Ann's", "t", ["Ann's lantern is red."], character_id=ann)
    store.add_document("Bo's chat", "t", ["Bo's chat lantern is blue."], chat_id=bo_chat)
    assert sorted(found(store, ["lantern"], [ann], ann_chat)) == [
        "A lantern for everyone.",
        "Ann's lantern is red.",
    ]
    assert sorted(found(store, ["lantern"], [bo], bo_chat)) == [
        "A lantern for everyone.",
        "Bo's chat lantern is blue.",
    ]
    listed = store.list_documents(character_ids=[ann], chat_id=ann_chat)
    assert [(d.name, d.scope, d.chunks, d.length) for d in listed] == [
        ("Everyone", "global", 1, 1),
        ("Ann's", "character", 1, 1),
    ]
    assert [d.name for d in store.all_documents()] == ["Everyone", "Ann's", "Bo's chat"]


def test_disabled_documents_are_not_found_and_scopes_say_where_documents_are(
    store: Store,
) -> None:
    chat_id = chat_with(store, "Ann", ["Hello."])
    character = store.get_chat(chat_id).character_id
    assert store.databank_scopes() == (False, frozenset(), frozenset())
    document = store.add_document("Ann's", "t", ["Ann's lantern."], character_id=character)
    assert store.databank_scopes() == (False, frozenset({character}), frozenset())
    store.set_document_enabled(document.id, False)
    assert not store.get_document(document.id).enabled
    assert found(store, ["lantern"], [character], chat_id) == []
    assert store.databank_scopes() == (False, frozenset(), frozenset())


def test_deleting_a_document_its_chat_or_its_character_takes_its_chunks(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["Hello."])
    character = store.get_chat(chat_id).character_id
    own = store.add_document("Chat's", "t", ["The chat's lantern."], chat_id=chat_id)
    store.add_document("Ann's", "t", ["Ann's lantern."], character_id=character)
    kept = store.add_document("Everyone", "t", ["Everyone's lantern."])
    store.delete_document(own.id)
    assert sorted(found(store, ["lantern"], [character], chat_id)) == [
        "Ann's lantern.",
        "Everyone's lantern.",
    ]
    store.delete_character(character)
    assert [d.id for d in store.all_documents()] == [kept.id]
    assert found(store, ["lantern"], [character], chat_id) == ["Everyone's lantern."]


def test_each_owner_sees_only_their_documents(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["Hello."])
    store.add_document("Mine", "t", ["My lantern."])
    other = store.for_owner(7)
    assert other.all_documents() == []
    assert (
        find_chunks(other.engine, 7, ["lantern"], character_ids=[], chat_id=chat_id, limit=3) == []
    )
    assert store.document_text(store.all_documents()[0].id) == "t"
