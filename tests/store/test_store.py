"""The SQLite store: migrations, connections, characters, chats, messages and swipes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from pytavern.engine.setup import default_card, install_defaults
from pytavern.errors import NotFoundError
from pytavern.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open_sqlite(tmp_path / "db" / "test.db")


def test_migrations_create_the_schema(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"connections", "characters", "chats", "messages", "swipes", "meta"} <= tables
    assert "alembic_version" in tables


def test_reopening_migrated_database_keeps_data(tmp_path: Path) -> None:
    first = Store.open_sqlite(tmp_path / "x.db")
    first.add_character({"name": "A"})
    first.close()
    again = Store.open_sqlite(tmp_path / "x.db")
    assert [c.name for c in again.list_characters()] == ["A"]


def test_first_connection_becomes_default(store: Store) -> None:
    store.save_connection(name="one", api="local")
    store.save_connection(name="two", api="openai", url="http://x", model="m")
    assert store.default_connection().name == "one"
    store.set_default_connection("two")
    assert store.default_connection().name == "two"
    assert [c.name for c in store.list_connections() if c.is_default] == ["two"]


def test_missing_connection_lists_known_ones(store: Store) -> None:
    store.save_connection(name="one", api="local")
    with pytest.raises(NotFoundError) as info:
        store.get_connection("nope")
    assert "one" in str(info.value)


def test_defaults_are_installed_once(store: Store) -> None:
    install_defaults(store)
    install_defaults(store)
    characters = store.list_characters()
    assert [c.name for c in characters] == [default_card()["data"]["name"]]
    store.delete_character(characters[0].id)
    install_defaults(store)
    assert store.list_characters() == []
    assert store.default_connection().api == "local"


def test_messages_swipes_and_history_window(store: Store) -> None:
    character = store.add_character({"spec": "chara_card_v2", "data": {"name": "Bo"}})
    chat = store.create_chat(character.id)
    for index in range(10):
        store.append_message(
            chat.id, role="user" if index % 2 else "assistant", name="", text=f"m{index}"
        )
    window = store.history(chat.id, limit=3)
    assert [m.text for m in window] == ["m7", "m8", "m9"]
    assert [m.position for m in window] == [7, 8, 9]
    last = store.last_message(chat.id)
    assert last is not None
    swiped = store.add_swipe(last.id, text="alt", status="incomplete", finish_reason="cancelled")
    assert (swiped.active_swipe, swiped.swipe_count, swiped.text) == (1, 2, "alt")
    assert swiped.swipe.status == "incomplete"
    back = store.set_active_swipe(last.id, 0)
    assert back.text == "m9"
    assert [s.text for s in store.list_swipes(last.id)] == ["m9", "alt"]
    assert store.get_chat(chat.id).message_count == 10


def test_deleting_a_character_deletes_its_chats(store: Store) -> None:
    character = store.add_character({"name": "Cy"})
    chat = store.create_chat(character.id)
    store.append_message(chat.id, role="user", name="", text="hi")
    store.delete_character(character.id)
    with pytest.raises(NotFoundError):
        store.get_chat(chat.id)
