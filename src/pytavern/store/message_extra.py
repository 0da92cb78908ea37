"""Replacing the free-form ``extra`` of one stored message (flags such as hidden)."""

from __future__ import annotations

from typing import Any

from pytavern.store._base import dumps
from pytavern.store.chats import ChatsMixin
from pytavern.store.records import MessageRecord


def set_message_extra(store: ChatsMixin, message_id: int, extra: dict[str, Any]) -> MessageRecord:
    """Store ``extra`` as the message's extra data (one transaction) and return the message."""
    with store.transaction() as session:
        row = store._message_row(session, message_id)
        row.extra = dumps(extra)
    return store.get_message(message_id)
