"""The three-statement chat import stores exactly what ``Store.import_chat`` stores."""

from __future__ import annotations

import pytest

from pytavern.errors import NotFoundError
from pytavern.store import NewMessage, Store
from pytavern.store.bulk_import import import_chat_rows

MESSAGES = [
    NewMessage(role="assistant", name="Ada", swipes=["Hi."]),
    NewMessage(role="user", name="You", swipes=["Hello"], extra={"st": {"a": 1}}),
    NewMessage(role="assistant", name="Ada", swipes=["One", "Two", "Three"], active_swipe=1),
    NewMessage(role="assistant", name="Ada", swipes=[], active_swipe=5),
]


def snapshot(store: Store, chat_id: int) -> list[tuple[object, ...]]:
    rows = []
    for message in store.history(chat_id):
        swipes = [(s.index, s.text, s.status) for s in store.list_swipes(message.id)]
        rows.append(
            (message.role, message.name, message.text, message.active_swipe, message.extra, swipes)
        )
    return rows


def test_bulk_rows_match_the_orm_import(store: Store) -> None:
    character = store.add_character({"name": "Ada"})
    reference = store.import_chat(character.id, title="t", metadata={"k": 1}, messages=MESSAGES)
    chat_id = import_chat_rows(store, character.id, title="t", metadata={"k": 1}, messages=MESSAGES)
    bulk = store.get_chat(chat_id)
    assert (bulk.title, bulk.metadata, bulk.message_count) == ("t", {"k": 1}, 4)
    assert snapshot(store, chat_id) == snapshot(store, reference.id)
    appended = store.append_message(chat_id, role="user", name="You", text="next")
    assert [m.id for m in store.history(chat_id)][-1] == appended.id
    empty = import_chat_rows(store, character.id, title="e", metadata={}, messages=[])
    assert store.get_chat(empty).message_count == 0


def test_another_owners_character_is_refused(store: Store) -> None:
    character = store.add_character({"name": "Ada"})
    with pytest.raises(NotFoundError):
        import_chat_rows(store.for_owner(7), character.id, title="x", metadata={}, messages=[])
