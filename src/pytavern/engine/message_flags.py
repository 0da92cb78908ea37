"""Hiding a message from the prompt: it stays in the chat, the prompt builder skips it.

The flag is SillyTavern's ``is_system`` on the message's JSONL line, so it survives export
and import both ways, and the prompt path already leaves such messages out.
"""

from __future__ import annotations

from pytavern.engine.transfer import ST_LINE, st_line_fields
from pytavern.store import MessageRecord, Store
from pytavern.store.message_extra import set_message_extra


def set_hidden(store: Store, message_id: int, hidden: bool) -> MessageRecord:
    """Hide the message from the prompt (``hidden``) or show it to the prompt again."""
    message = store.get_message(message_id)
    st = st_line_fields(message)
    st["is_system"] = hidden
    return set_message_extra(store, message_id, {**message.extra, ST_LINE: st})
