"""Importing a whole chat in three statements: the chat, its messages, their swipes.

``Store.import_chat`` adds rows one by one through the ORM (a flush per message); a folder
import stores thousands of chats, so this writes each table with one multi-row insert, in
one transaction (all or nothing), to the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from pytavern.errors import NotFoundError
from pytavern.store import NewMessage, Store
from pytavern.store._base import dumps
from pytavern.store.schema import CharacterRow, ChatRow, MessageRow, SwipeRow, utcnow


def _message_row(chat_id: int, position: int, message: NewMessage) -> dict[str, Any]:
    count = max(len(message.swipes), 1)
    return {
        "chat_id": chat_id,
        "position": position,
        "role": message.role,
        "name": message.name,
        "active_swipe": min(max(message.active_swipe, 0), count - 1),
        "swipe_count": count,
        "extra": dumps(message.extra),
    }


def import_chat_rows(
    store: Store,
    character_id: int,
    *,
    title: str,
    metadata: dict[str, Any],
    messages: Sequence[NewMessage],
) -> int:
    """Create a chat of ``character_id`` with all its messages; return the chat's id."""
    now = utcnow()
    with store.transaction() as session:
        if store.owned(session, CharacterRow, character_id) is None:
            raise NotFoundError(f"no character with id {character_id}")
        chat_id: int = session.execute(
            insert(ChatRow)
            .values(
                owner_id=store.owner_id,
                character_id=character_id,
                title=title,
                metadata_json=dumps(metadata),
                next_position=len(messages),
                message_count=len(messages),
                created_at=now,
                updated_at=now,
            )
            .returning(ChatRow.id)
        ).scalar_one()
        if not messages:
            return chat_id
        rows = [
            _message_row(chat_id, position, m) | {"created_at": now}
            for position, m in enumerate(messages)
        ]
        ids = session.scalars(
            insert(MessageRow).returning(MessageRow.id, sort_by_parameter_order=True), rows
        ).all()
        swipes = [
            {
                "message_id": message_id,
                "swipe_index": index,
                "text": text,
                "status": "complete",
                "reasoning": "",
                "usage": "{}",
                "created_at": now,
            }
            for message_id, message in zip(ids, messages, strict=True)
            for index, text in enumerate(message.swipes or [""])
        ]
        session.execute(insert(SwipeRow), swipes)
        return chat_id
