"""Recall's lookup on SQLite (FTS5, BM25) and PostgreSQL (ts_rank): one chat, any word,
best match first, only before a position, hidden messages left out."""

from __future__ import annotations

import pytest

from pytavern.store import Store
from pytavern.store.recall import recall_messages
from tests.store.test_search import chat_with


def recalled(store: Store, chat_id: int, words: list[str], before: int = 100) -> list[str]:
    found = recall_messages(store.engine, chat_id, words, before=before, limit=3)
    return [message.text for message in found]


def test_the_best_match_comes_first_and_any_word_counts(store: Store) -> None:
    chat_id = chat_with(
        store,
        "Ann",
        [
            "The silver lantern hangs by the door.",
            "Bread and cheese for supper.",
            "The silver lantern and the silver key lie under the old bridge.",
            "A key, nothing more.",
        ],
    )
    assert recalled(store, chat_id, ["silver", "lantern", "bridge"]) == [
        "The silver lantern and the silver key lie under the old bridge.",
        "The silver lantern hangs by the door.",
    ]
    assert recalled(store, chat_id, ["supper"]) == ["Bread and cheese for supper."]
    assert recalled(store, chat_id, ["dragon"]) == []


def test_only_this_chat_and_only_before_the_position(store: Store) -> None:
    first = chat_with(store, "Ann", ["The lantern glows.", "Later the lantern broke."])
    other = chat_with(store, "Bo", ["Bo's lantern is green."])
    assert recalled(store, first, ["lantern"], before=1) == ["The lantern glows."]
    assert recalled(store, other, ["lantern"]) == ["Bo's lantern is green."]
    assert recalled(store, first, ["lantern"], before=0) == []


def test_hidden_messages_are_not_recalled(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["The lantern glows."])
    hidden = {"st": {"is_system": True}}
    store.append_message(chat_id, role="assistant", name="Ann", text="A lantern.", extra=hidden)
    assert recalled(store, chat_id, ["lantern"]) == ["The lantern glows."]


def test_accented_words_are_found(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["We met at the Café Noir.", "Nothing else."])
    assert recalled(store, chat_id, ["café"]) == ["We met at the Café Noir."]


def test_sqlite_does_not_look_up_words_most_texts_hold(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL ranks with ts_rank: every word is looked up")
    texts = [f"Wren pours ale number {i}." for i in range(80)]
    texts += ["Wren hides the silver key.", "The harbour at dawn."]
    chat_id = chat_with(store, "Ann", texts)
    assert recalled(store, chat_id, ["wren", "silver"]) == ["Wren hides the silver key."]
    assert recalled(store, chat_id, ["wren"]) == []  # in 81 of 82 texts: tells nothing
