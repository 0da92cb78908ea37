"""A chat imported whole: its messages and swipes as given, in three statements, all or
nothing, only for the owner's characters."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, event

from pytavern.errors import NotFoundError, StoreError
from pytavern.store import NewMessage, Store, lean

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


def test_the_messages_and_swipes_are_stored_as_given(store: Store) -> None:
    character = store.add_character({"name": "Ada"})
    chat = store.import_chat(character.id, title="t", metadata={"k": 1}, messages=MESSAGES)
    assert (chat.title, chat.metadata, chat.message_count) == ("t", {"k": 1}, 4)
    assert snapshot(store, chat.id) == [
        ("assistant", "Ada", "Hi.", 0, {}, [(0, "Hi.", "complete")]),
        ("user", "You", "Hello", 0, {"st": {"a": 1}}, [(0, "Hello", "complete")]),
        (
            "assistant",
            "Ada",
            "Two",
            1,
            {},
            [(0, "One", "complete"), (1, "Two", "complete"), (2, "Three", "complete")],
        ),
        ("assistant", "Ada", "", 0, {}, [(0, "", "complete")]),
    ]
    appended = store.append_message(chat.id, role="user", name="You", text="next")
    assert [m.id for m in store.history(chat.id)][-1] == appended.id
    empty = store.import_chat(character.id, title="e", metadata={}, messages=[])
    assert store.get_chat(empty.id).message_count == 0


def test_a_long_chat_takes_three_inserts(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    character = store.add_character({"name": "Ada"})
    messages = [NewMessage(role="user", name="You", swipes=[f"m{i}"]) for i in range(500)]
    inserts: list[int] = []  # rows per driver call of an INSERT (1 unless executemany)
    through_core: list[str] = []  # INSERTs that went through SQLAlchemy's execution
    executed = lean._executed

    def counted(connection: Connection, sql: str, parameters: Any, *, many: bool = False) -> Any:
        if sql.lstrip().upper().startswith("INSERT"):
            inserts.append(len(parameters) if many else 1)
        return executed(connection, sql, parameters, many=many)

    def count(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("INSERT"):
            through_core.append(str(args[2]))

    monkeypatch.setattr(lean, "_executed", counted)
    event.listen(store.engine, "before_cursor_execute", count)
    try:
        chat = store.import_chat(character.id, title="long", metadata={}, messages=messages)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert inserts == [1, 500, 500]  # the chat, its messages, their swipes: a driver call each
    assert through_core == []
    assert store.get_chat(chat.id).message_count == 500
    assert [m.text for m in store.history(chat.id)][-2:] == ["m498", "m499"]


def test_another_owners_character_is_refused(store: Store) -> None:
    character = store.add_character({"name": "Ada"})
    with pytest.raises(NotFoundError):
        store.for_owner(7).import_chat(character.id, title="x", metadata={}, messages=[])


def test_a_row_the_database_refuses_leaves_no_chat(store: Store) -> None:
    character = store.add_character({"name": "Ada"})
    broken = NewMessage(role=None, name="You", swipes=["x"])  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        store.import_chat(character.id, title="bad", metadata={}, messages=[*MESSAGES, broken])
    assert [chat.title for chat in store.list_chats(character.id)] == []
