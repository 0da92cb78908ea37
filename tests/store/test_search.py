"""Full-text search on SQLite (FTS5) and PostgreSQL (tsvector): shown swipes only, every
word, newest first, per owner and character; the index follows inserts, edits, deletes."""

from __future__ import annotations

from sqlalchemy import text

from pytavern.formats.cards import new_card
from pytavern.store import NewMessage, Store
from pytavern.store.interrupted import INTERRUPTED, mark_interrupted, newest_swipe_id
from pytavern.store.search import search_messages
from tests.store.test_chat_revision import chat_revision


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


def _pending(store: Store) -> int:
    from sqlalchemy import text

    with store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM swipes_fts_pending")).scalar_one())


def test_sqlite_indexes_new_texts_in_batches_and_finds_them_all(store: Store) -> None:
    """Writes only note what to index; a search indexes it first, and changes or deletes of
    texts indexed already or still pending leave FTS5's own check sound."""
    if store.engine.dialect.name != "sqlite":
        return
    from pytavern.store.search import index_pending

    chat_id = chat_with(store, "Ann", ["old lantern", "old reply"])
    assert _pending(store) == 2
    assert found(store, "lantern") == ["old lantern"] and _pending(store) == 0
    _index_is_sound(store)
    indexed = store.history(chat_id)[0]
    store.update_swipe(indexed.id, 0, text="new lantern", status="complete")  # out at once
    store.update_swipe(indexed.id, 0, text="newer lantern", status="complete")  # pending
    reply = store.append_message(chat_id, role="assistant", name="Ann", text="lantern reply")
    store.delete_message(reply.id)  # deleted while pending: nothing to take out
    _index_is_sound(store)
    assert _pending(store) == 1
    index_pending(store.engine)
    assert _pending(store) == 0
    _index_is_sound(store)
    assert found(store, "lantern") == ["newer lantern"] and found(store, "new") == []
    store.delete_chat(chat_id)
    assert found(store, "lantern") == []
    _index_is_sound(store)


def test_a_bounded_pass_indexes_the_oldest_pending_texts_first(store: Store) -> None:
    if store.engine.dialect.name != "sqlite":
        return
    from pytavern.store.search import index_pending

    words = ["amber", "birch", "cedar", "dune", "ember"]
    chat_with(store, "Ann", [f"{word} lantern" for word in words])
    assert _pending(store) == 5
    index_pending(store.engine, limit=2)
    assert _pending(store) == 3
    _index_is_sound(store)
    match = "SELECT s.text FROM swipes_fts JOIN swipes s ON s.id = swipes_fts.rowid "
    match += "WHERE swipes_fts MATCH 'lantern' ORDER BY s.id"  # the index alone, no pass first
    with store.engine.connect() as connection:
        indexed = [row.text for row in connection.execute(text(match))]
    assert indexed == ["amber lantern", "birch lantern"]
    index_pending(store.engine, limit=10)
    assert _pending(store) == 0
    assert sorted(found(store, "lantern")) == sorted(f"{word} lantern" for word in words)
    _index_is_sound(store)


def test_a_reply_left_streaming_by_a_dead_process_is_marked_and_found(store: Store) -> None:
    chat_id = chat_with(store, "Ann", ["hello"])
    cut = store.append_message(
        chat_id, role="assistant", name="Ann", text="cut lantern", status="incomplete"
    )
    up_to = newest_swipe_id(store.engine)
    assert up_to >= 2
    later = store.append_message(
        chat_id, role="assistant", name="Ann", text="later lantern", status="incomplete"
    )
    before = chat_revision(store, chat_id)
    if store.engine.dialect.name != "sqlite":  # its search column has every text already
        assert mark_interrupted(store.engine, up_to) == 0
        assert store.get_message(cut.id).swipe.finish_reason is None
        return
    assert found(store, "lantern") == []
    assert mark_interrupted(store.engine, up_to) == 1
    assert store.get_message(cut.id).swipe.finish_reason == INTERRUPTED
    assert store.get_message(cut.id).swipe.status == "incomplete"  # still cut short
    assert store.get_message(later.id).swipe.finish_reason is None  # begun after the start
    assert chat_revision(store, chat_id) == before + 1
    assert found(store, "lantern") == ["cut lantern"]
    _index_is_sound(store)
    assert mark_interrupted(store.engine, up_to) == 0  # nothing left to mark
    store.update_swipe(later.id, 0, text="later lantern done", status="complete")
    assert found(store, "lantern") == ["later lantern done", "cut lantern"]
    _index_is_sound(store)
