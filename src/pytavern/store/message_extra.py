"""Changing a stored message's ``extra`` (SillyTavern's per-message fields) in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pytavern.errors import NotFoundError
from pytavern.store._base import dumps, loads
from pytavern.store.chats import _bump_revision
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
