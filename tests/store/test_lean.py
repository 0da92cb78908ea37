"""Lean statements give what Core gives, on SQLite and PostgreSQL, and fail the same way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from pytavern.errors import StoreError
from pytavern.store import Store
from pytavern.store.lean import LeanStatement
from pytavern.store.queries import CHARACTER_HAS_AVATAR
from pytavern.store.schema import CharacterRow, ChatRow, MessageRow, SwipeRow

_CHATS = select(
    ChatRow.id,
    ChatRow.title,
    ChatRow.created_at,
    ChatRow.message_count,
    (ChatRow.message_count > bindparam("least")).label("busy"),
).where(ChatRow.character_id == bindparam("character"))
_CHARACTERS = select(CharacterRow.id, CharacterRow.name, CHARACTER_HAS_AVATAR).order_by(
    CharacterRow.id
)


def _chat(store: Store) -> tuple[int, int]:
    character = store.add_character({"name": "Wren"})
    chat = store.create_chat(character.id, title="road")
    store.append_message(chat.id, role="user", name="U", text="hi")
    return character.id, chat.id


@pytest.mark.parametrize("least", [0, 5])
def test_selected_rows_equal_cores(store: Store, least: int) -> None:
    character, _chat_id = _chat(store)
    params = {"character": character, "least": least}
    with store.engine.begin() as connection:
        core = [tuple(row) for row in connection.execute(_CHATS, params).all()]
        lean = [tuple(row) for row in LeanStatement(_CHATS).all(connection, params)]
        rows = LeanStatement(_CHARACTERS).all(connection, {})
        missing = LeanStatement(_CHATS).first(connection, {**params, "character": -1})
    assert lean == core and len(lean) == 1
    assert isinstance(lean[0][2], datetime) and lean[0][4] is (least == 0)
    assert all(row.has_avatar is False for row in rows)
    assert missing is None


def test_writes_bind_like_core_and_return_rows(store: Store) -> None:
    _character, chat_id = _chat(store)
    when = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=UTC)
    bump = (
        update(ChatRow)
        .where(ChatRow.id == bindparam("chat"))
        .values(message_count=ChatRow.message_count + 2, updated_at=bindparam("now"))
        .returning(ChatRow.message_count)
    )
    with store.engine.begin() as connection:
        row = LeanStatement(bump).first(connection, {"chat": chat_id, "now": when})
        message = LeanStatement(insert(MessageRow).returning(MessageRow.id)).first(
            connection,
            {
                "chat_id": chat_id,
                "position": 7,
                "role": "assistant",
                "name": "Wren",
                "active_swipe": 0,
                "swipe_count": 1,
                "extra": "{}",
                "created_at": when,
            },
        )
    assert row is not None and row.message_count == 3
    assert message is not None
    stored = store.get_chat(chat_id)
    assert stored.updated_at.replace(tzinfo=None) == when.replace(tzinfo=None)


def test_driver_errors_are_sqlalchemys_and_roll_back(store: Store) -> None:
    _character, chat_id = _chat(store)
    orphan = {
        "message_id": 10**9,
        "swipe_index": 0,
        "text": "x",
        "status": "complete",
        "reasoning": "",
        "usage": "{}",
        "created_at": datetime.now(UTC),
    }
    with store.engine.begin() as connection, pytest.raises(IntegrityError):
        LeanStatement(insert(SwipeRow)).execute(connection, orphan)
    before = store.get_chat(chat_id).message_count
    with pytest.raises(StoreError), store.queries() as queries:
        queries.append_message(chat_id, role="user", name="U", text="kept?")
        LeanStatement(insert(SwipeRow)).execute(queries._connection, orphan)
    assert store.get_chat(chat_id).message_count == before
    assert [m.text for m in store.history(chat_id)] == ["hi"]
