"""A lazy, oldest-first view of a stored chat for the prompt builder.

The builder reads only ``len`` and indexes from the newest end, as far back as the context
allows; this view fetches pages of messages from the store as it is indexed, so building a
prompt for a 100,000-message chat reads only what fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import overload

from pytavern.prompt.inputs import HistoryMessage
from pytavern.store import MessageRecord, Store

FIRST_PAGE = 32
"""Most prompts need few messages; pages then double up to ``MAX_PAGE``."""
MAX_PAGE = 512


def to_history_message(record: MessageRecord) -> HistoryMessage:
    """A stored message as the prompt builder sees it."""
    return HistoryMessage(
        is_user=record.role == "user",
        name=record.name,
        text=record.text,
        is_system=bool((record.extra.get("st") or {}).get("is_system")),
        is_narrator=record.role == "system",
        send_date=_aware(record.created_at),
    )


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the store writes UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class StoredHistory(Sequence[HistoryMessage]):
    """The messages of one chat, oldest first, loaded newest-first on demand."""

    def __init__(
        self, store: Store, chat_id: int, length: int, newest: list[MessageRecord] | None = None
    ) -> None:
        """``newest``: the newest messages, oldest first, when already read."""
        self._store = store
        self._chat_id = chat_id
        self._length = length
        self._newest: list[MessageRecord] = list(reversed(newest or []))

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> HistoryMessage: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[HistoryMessage]: ...

    def __getitem__(self, index: int | slice) -> HistoryMessage | Sequence[HistoryMessage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        rank = self._length - 1 - index
        while len(self._newest) <= rank:
            if not self._load_page():
                raise IndexError(index)
        return to_history_message(self._newest[rank])

    def record(self, index: int) -> MessageRecord:
        """The stored record behind ``self[index]``."""
        self[index]
        return self._newest[self._length - 1 - (index % self._length)]

    def _load_page(self) -> bool:
        before = self._newest[-1].position if self._newest else None
        size = min(max(FIRST_PAGE, len(self._newest)), MAX_PAGE)
        page = self._store.history(self._chat_id, limit=size, before_position=before)
        self._newest.extend(reversed(page))
        return bool(page)
