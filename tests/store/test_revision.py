"""The library revision changes with every library write, and only with those."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytavern.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open_sqlite(tmp_path / "test.db")
    yield opened
    opened.close()


def revision(store: Store) -> str | None:
    """The revision as a turn reads it (with its chat)."""
    chats = store.list_chats()
    if not chats:  # after adopt_unowned the chat belongs to someone else
        return store.get_meta("library_revision")
    with store.queries() as queries:
        return queries.chat_for_turn(chats[0].id).revision


def _library_writes(store: Store, character: int, persona: int) -> dict[str, Callable[[], Any]]:
    return {
        "add_character": lambda: store.add_character({"name": "B"}),
        "update_character": lambda: store.update_character(character, {"name": "A2"}),
        "save_connection": lambda: store.save_connection(name="c2", api="custom", url="http://x"),
        "set_default_connection": lambda: store.set_default_connection("c2"),
        "remove_connection": lambda: store.remove_connection("c1"),
        "save_persona": lambda: store.save_persona(persona, description="new"),
        "set_default_persona": lambda: store.set_default_persona(persona),
        "save_lorebook": lambda: store.save_lorebook("lore", {"entries": {}}),
        "delete_lorebook": lambda: store.delete_lorebook("lore"),
        "save_preset": lambda: store.save_preset("instruct", "mine", {"name": "mine"}),
        "delete_preset": lambda: store.delete_preset("instruct", "mine"),
        "set_setting": lambda: store.set_setting("generation", {"context_size": 2048}),
        "delete_persona": lambda: store.delete_persona(persona),
        "adopt_unowned": lambda: store.adopt_unowned(7),
    }


def test_every_library_write_changes_the_revision(store: Store) -> None:
    character = store.add_character({"name": "A"}).id
    store.save_connection(name="c1", api="custom", url="http://x")
    persona = store.save_persona(name="Ann").id
    store.create_chat(character)
    for name, write in _library_writes(store, character, persona).items():
        before = revision(store)
        write()
        assert revision(store) != before, name


def test_chat_writes_and_reads_leave_it_alone(store: Store) -> None:
    character = store.add_character({"name": "A"}).id
    chat = store.create_chat(character).id
    before = revision(store)
    message = store.append_message(chat, role="user", name="Ann", text="hi")
    store.add_swipe(message.id, text="other")
    store.update_swipe(message.id, 1, text="edited", status="complete")
    store.merge_chat_metadata(chat, {"x": 1})
    store.update_chat(chat, title="t")
    store.list_characters()
    store.get_setting("generation")
    assert revision(store) == before is not None


def test_a_second_process_sees_the_change(store: Store, tmp_path: Path) -> None:
    character = store.add_character({"name": "A"}).id
    store.create_chat(character)
    other = Store.open_sqlite(tmp_path / "test.db")
    try:
        before = revision(store)
        other.update_character(character, {"name": "Changed"})
        assert revision(store) != before
    finally:
        other.close()
