"""A chat's revision moves on by one with every write to its messages or swipes."""

from __future__ import annotations

from pytavern.store import AddedMessage, Store


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


def test_messages_appended_together_read_as_if_appended_one_by_one(store: Store) -> None:
    character = store.add_character({"name": "A"})
    chat = store.create_chat(character.id)
    start = chat_revision(store, chat.id)
    greeting = store.history(chat.id)
    with store.queries() as queries:
        user, reply = queries.append_messages(
            chat.id,
            [
                AddedMessage("user", "U", "hi"),
                AddedMessage("assistant", "A", "hel", "incomplete", None, {"connection": "c"}),
            ],
        )
    assert (user.chat_revision, reply.chat_revision) == (start + 1, start + 2)
    assert chat_revision(store, chat.id) == start + 2
    assert reply.position == user.position + 1
    stored = store.history(chat.id)[len(greeting) :]
    assert [(m.id, m.role, m.name, m.text, m.position) for m in stored] == [
        (user.id, "user", "U", "hi", user.position),
        (reply.id, "assistant", "A", "hel", reply.position),
    ]
    assert (stored[1].swipe.status, stored[1].swipe.connection) == ("incomplete", "c")

    assert store.get_chat(chat.id).message_count == len(greeting) + 2
    after = store.append_message(chat.id, role="user", name="U", text="next")
    assert after.position == reply.position + 1
    assert after.chat_revision == start + 3
