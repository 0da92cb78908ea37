"""Full-text search on SQLite (FTS5) and PostgreSQL (tsvector): shown swipes only, every
word, newest first, per owner and character; the index follows inserts, edits, deletes."""

from __future__ import annotations

from pytavern.formats.cards import new_card
from pytavern.store import NewMessage, Store
from pytavern.store.search import search_messages


def chat_with(store: Store, name: str, texts: list[str]) -> int:
    character = store.add_character(new_card(name).raw)
    messages = [
        NewMessage(role="assistant" if i % 2 else "user", name=name, swipes=[t])
        for i, t in enumerate(texts)
    ]
    return store.import_chat(character.id, title=name, metadata={}, messages=messages).id


def found(store: Store, query: str, **options: object) -> list[str]:
    return [hit.text for hit in search_messages(store.engine, store.owner_id, query, **options)]  # type: ignore[arg-type]


def test_finds_every_word_newest_first(store: Store) -> None:
    chat_with(store, "Ann", ["The lantern glows", "A lantern, dimly lit!", "nothing here"])
    assert found(store, "lantern") == ["A lantern, dimly lit!", "The lantern glows"]
    assert found(store, "LANTERN   lit?") == ["A lantern, dimly lit!"]
    assert found(store, "lantern zebra") == []
    assert found(store, "  ?! ") == []
    assert found(store, 'a "quoted" OR NOT') == []  # query syntax is not interpreted


def test_character_filter_and_owner(store: Store) -> None:
    first = chat_with(store, "Ann", ["moon over water"])
    chat_with(store, "Bob", ["moon rises"])
    ann = store.get_chat(first).character_id
    assert sorted(found(store, "moon")) == ["moon over water", "moon rises"]
    assert found(store, "moon", character_id=ann) == ["moon over water"]
    other = store.for_owner(7)
    assert found(other, "moon") == []


def test_index_follows_edits_swipes_and_deletes(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["hello", "first reply"])
    reply = store.history(chat_id)[-1]
    store.update_swipe(reply.id, 0, text="edited answer", status="complete")
    assert found(store, "first") == [] and found(store, "edited") == ["edited answer"]
    store.add_swipe(reply.id, text="swiped answer", status="complete")
    assert found(store, "answer") == ["swiped answer"]  # only the shown swipe
    store.delete_chat(chat_id)
    assert found(store, "answer") == [] and found(store, "hello") == []


def _index_is_sound(store: Store) -> None:
    """FTS5's own check: the index holds exactly what the triggers put there."""
    from sqlalchemy import text

    with store.engine.begin() as connection:
        connection.execute(text("INSERT INTO swipes_fts(swipes_fts) VALUES ('integrity-check')"))


def test_a_reply_is_indexed_once_it_has_ended_stopped_or_not(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["hello"])
    streaming = store.append_message(
        chat_id, role="assistant", name="Ann", text="partial lantern", status="incomplete"
    )
    if store.engine.dialect.name == "sqlite":  # PostgreSQL's generated column has every text
        assert found(store, "lantern") == []
        _index_is_sound(store)
    store.update_swipe(
        streaming.id, 0, text="stopped lantern", status="incomplete", finish_reason="cancelled"
    )
    assert found(store, "lantern") == ["stopped lantern"]
    store.update_swipe(streaming.id, 0, text="complete lantern", status="complete")
    assert found(store, "lantern") == ["complete lantern"]
    second = store.append_message(
        chat_id, role="assistant", name="Ann", text="lantern two", status="incomplete"
    )
    store.delete_message(second.id)  # deleted while it streamed: nothing to take out
    store.delete_chat(chat_id)
    assert found(store, "lantern") == []
    if store.engine.dialect.name == "sqlite":
        _index_is_sound(store)
