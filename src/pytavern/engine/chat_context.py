"""The newest messages of recently used chats, kept in their prompt-ready form.

A turn needs the newest messages of its chat, as many as the context holds. Reading and
decoding them from the store on every turn is most of a turn's work on a long chat, so
they stay in memory between turns, each as its stored record and as the prompt builder's
``HistoryMessage``.

A cached chat is good while the chat's revision in the database (``ChatRow.revision``) is
the one it was cached at: every write to a chat's messages or swipes moves it on, in this
process or any other on the same database. The turn's own writes are applied to the cache
(each write returns the revision it made; a write that is not the next revision after the
cached one means someone else wrote in between, and the chat is dropped). Chats are
evicted least recently used, bounded by count and by an estimate of their bytes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pytavern.prompt.inputs import HistoryMessage
from pytavern.store import MessageRecord

MAX_CHATS = 256
MAX_BYTES = 64 * 1024 * 1024
"""Bound on the estimated size of every cached chat together."""
MAX_MESSAGES = 4096
"""Messages kept per chat at most (a prompt that reaches further pages the rest)."""
MESSAGE_OVERHEAD = 760
"""Estimated bytes of a cached message besides its text (two records, one view, and the
prompt form the chat builder keeps in the view's ``memo``: ~160 bytes)."""
SLACK = 32
"""Messages kept beyond what the last prompt read, so the next prompts find them too."""


def to_history_message(record: MessageRecord) -> HistoryMessage:
    """A stored message as the prompt builder sees it."""
    return HistoryMessage(
        is_user=record.role == "user",
        name=record.name,
        text=record.text,
        is_system=record.is_hidden,
        is_narrator=record.role == "system",
        send_date=_aware(record.created_at),
    )


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the store writes UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def message_bytes(record: MessageRecord) -> int:
    """Estimated memory one cached message takes (text counted twice: record and view)."""
    return MESSAGE_OVERHEAD + 2 * len(record.text) + len(record.swipe.reasoning)


@dataclass(frozen=True, slots=True)
class CachedChat:
    """The newest messages of one chat at one revision, newest first.

    ``records[i]`` and ``views[i]`` are the same message; ``records[0]`` is the chat's
    newest. Never mutated: changes make a new ``CachedChat``.
    """

    chat_id: int
    revision: int
    records: tuple[MessageRecord, ...]
    views: tuple[HistoryMessage, ...]
    size: int
    limit: int = MAX_MESSAGES
    """Messages kept at most: what the last prompt read and ``SLACK`` more (the oldest
    go as new ones come), so each write copies about a prompt's worth."""

    @classmethod
    def of(cls, chat_id: int, revision: int, newest_first: Sequence[MessageRecord]) -> CachedChat:
        """A cached chat from records read from the store, newest first."""
        records = tuple(newest_first[:MAX_MESSAGES])
        views = tuple(to_history_message(record) for record in records)
        return cls(chat_id, revision, records, views, sum(map(message_bytes, records)))

    def reshaped(
        self, older: Sequence[MessageRecord], older_views: Sequence[HistoryMessage], read: int
    ) -> CachedChat:
        """This chat with ``older`` messages (newest first, continuing ``records``) added,
        kept to ``read`` (how many messages a prompt read) and ``SLACK`` more."""
        limit = min(MAX_MESSAGES, read + SLACK)
        records = (self.records + tuple(older))[:limit]
        views = (self.views + tuple(older_views))[:limit]
        size = sum(map(message_bytes, records))
        return CachedChat(self.chat_id, self.revision, records, views, size, limit)

    def written(self, record: MessageRecord) -> CachedChat | None:
        """This chat after a committed write that returned ``record``, or ``None`` when the
        write is not the next revision (another writer came between) or does not fit."""
        if record.chat_revision != self.revision + 1:
            return None
        view = to_history_message(record)
        records, views, size = self.records, self.views, self.size + message_bytes(record)
        if records and records[0].id == record.id:  # the newest, updated (the usual case)
            size -= message_bytes(records[0])
            records, views = (record, *records[1:]), (view, *views[1:])
        elif not records or record.position > records[0].position:  # a new message
            keep = self.limit - 1
            size -= sum(map(message_bytes, records[keep:]))
            records, views = (record, *records[:keep]), (view, *views[:keep])
        else:
            index = next((i for i, old in enumerate(records) if old.id == record.id), None)
            if index is None:
                return None  # an older message this cache does not hold
            size -= message_bytes(records[index])
            records = (*records[:index], record, *records[index + 1 :])
            views = (*views[:index], view, *views[index + 1 :])
        return CachedChat(self.chat_id, self.revision + 1, records, views, size, self.limit)


class ChatContexts:
    """Cached chats, least recently used first out, bounded by count and bytes."""

    def __init__(self, max_chats: int = MAX_CHATS, max_bytes: int = MAX_BYTES) -> None:
        self._max_chats = max_chats
        self._max_bytes = max_bytes
        self._chats: OrderedDict[int, CachedChat] = OrderedDict()
        self._bytes = 0

    @property
    def size(self) -> int:
        """Estimated bytes held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._chats)

    def get(self, chat_id: int, revision: int) -> CachedChat | None:
        """The cached chat if it is at ``revision`` (a stale one is dropped)."""
        cached = self._chats.get(chat_id)
        if cached is None:
            return None
        if cached.revision != revision:
            self.drop(chat_id)
            return None
        self._chats.move_to_end(chat_id)
        return cached

    def put(self, cached: CachedChat) -> None:
        """Keep ``cached`` unless a different revision of the chat is held (which of the two
        is newer is not known here; the next turn's read settles it)."""
        held = self._chats.get(cached.chat_id)
        if held is not None and held.revision != cached.revision:
            return
        self._set(cached)

    def written(self, record: MessageRecord | None) -> None:
        """Apply a committed write that returned ``record`` (the chat is dropped when the
        write cannot be applied)."""
        if record is None or record.chat_revision is None:
            return
        held = self._chats.get(record.chat_id)
        if held is None:
            return
        updated = held.written(record)
        if updated is None:
            self.drop(record.chat_id)
        else:
            self._set(updated)

    def drop(self, chat_id: int) -> None:
        """Forget a chat."""
        held = self._chats.pop(chat_id, None)
        if held is not None:
            self._bytes -= held.size

    def _set(self, cached: CachedChat) -> None:
        self.drop(cached.chat_id)
        if cached.size > self._max_bytes:
            return
        self._chats[cached.chat_id] = cached
        self._bytes += cached.size
        while len(self._chats) > self._max_chats or self._bytes > self._max_bytes:
            self.drop(next(iter(self._chats)))
