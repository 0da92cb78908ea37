"""Changing a stored message's ``extra`` (SillyTavern's per-message fields) in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pytavern.errors import NotFoundError
from pytavern.store._base import dumps, loads
from pytavern.store.chats import ChatsMixin, _bump_revision
from pytavern.store.records import MessageRecord
from pytavern.store.schema import ChatRow, MessageRow

if TYPE_CHECKING:
    from pytavern.store import Store


def change_message_extra(
    store: Store, message_id: int, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """Replace a message's ``extra`` with ``change(extra)`` in one transaction; the new one.

    The chat's revision moves on with it (a hidden message leaves the prompt, so cached
    contexts of the chat must be read again)."""
    with store.transaction() as session:
        row = session.get(MessageRow, message_id, with_for_update=True)
        if row is None or store.owned(session, ChatRow, row.chat_id) is None:
            raise NotFoundError(f"no message with id {message_id}")
        extra = change(dict(loads(row.extra) or {}))
        row.extra = dumps(extra)
        _bump_revision(session, row.chat_id)
        return extra


def set_message_extra(store: ChatsMixin, message_id: int, extra: dict[str, Any]) -> MessageRecord:
    """Store ``extra`` as the message's extra data (one transaction, moving the chat's
    revision on) and return the message."""
    with store.transaction() as session:
        row = store._message_row(session, message_id)
        row.extra = dumps(extra)
        _bump_revision(session, row.chat_id)
    return store.get_message(message_id)
