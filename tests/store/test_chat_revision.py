"""A chat's revision moves on by one with every write to its messages or swipes."""

from __future__ import annotations

from pytavern.store import Store


def chat_revision(store: Store, chat_id: int) -> int:
    """The revision as a turn reads it."""
    with store.queries() as queries:
        return queries.chat_for_turn(chat_id).chat_revision


def test_every_message_write_moves_the_revision_on_and_returns_it(store: Store) -> None:
    character = store.add_character({"name": "A"})
    chat = store.create_chat(character.id)
    start = chat_revision(store, chat.id)
    first = store.append_message(chat.id, role="user", name="U", text="hi")
    assert first.chat_revision == start + 1 == chat_revision(store, chat.id)
    writes = [
        lambda: store.append_message(chat.id, role="assistant", name="A", text="hello"),
        lambda: store.update_swipe(first.id, 0, text="hi!", status="complete"),
        lambda: store.add_swipe(first.id, text="hey"),
        lambda: store.set_active_swipe(first.id, 0),
    ]
    for step, write in enumerate(writes, start=2):
        assert write().chat_revision == start + step == chat_revision(store, chat.id)
    store.delete_message(first.id)
    assert chat_revision(store, chat.id) == start + 6


def test_other_chat_writes_leave_the_revision_alone(store: Store) -> None:
    character = store.add_character({"name": "A"})
    chat, other = store.create_chat(character.id), store.create_chat(character.id)
    before = chat_revision(store, chat.id)
    store.append_message(other.id, role="user", name="U", text="elsewhere")
    store.merge_chat_metadata(chat.id, {"x": 1})
    store.update_chat(chat.id, title="renamed")
    assert chat_revision(store, chat.id) == before
    assert chat_revision(store, other.id) != before  # new chats start apart
