"""A lazy, oldest-first view of a stored chat for the prompt builder.

The builder reads only ``len`` and indexes from the newest end, as far back as the context
allows; this view starts from the chat's cached newest messages (``chat_context``) and
fetches older pages from the store only when indexed past them, so building a prompt for a
100,000-message chat reads only what fits, and a chat used on the last turn reads nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from pytavern.engine.chat_context import CachedChat, to_history_message
from pytavern.prompt.inputs import HistoryMessage
from pytavern.store import MessageRecord, Store

__all__ = ["FIRST_PAGE", "MAX_PAGE", "StoredHistory", "to_history_message"]

FIRST_PAGE = 32
"""Most prompts need few messages; pages then double up to ``MAX_PAGE``."""
MAX_PAGE = 512


class StoredHistory(Sequence[HistoryMessage]):
    """The messages of one chat, oldest first, loaded newest-first on demand."""

    def __init__(
        self,
        store: Store,
        chat_id: int,
        length: int,
        newest: list[MessageRecord] | None = None,
        *,
        cached: CachedChat | None = None,
    ) -> None:
        """``newest``: the newest messages, oldest first, when already read; ``cached``: the
        chat's cached messages, which come before ``newest`` (``newest`` then holds only
        what is newer than the cache, e.g. the user's message not stored yet)."""
        self._store = store
        self._chat_id = chat_id
        self._length = length
        self._newest: list[MessageRecord] = list(reversed(newest or []))
        self._views: list[HistoryMessage | None] = [None] * len(self._newest)
        self._depth = 0
        if cached is not None:
            self._newest.extend(cached.records)
            self._views.extend(cached.views)

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
        return self._view(self._length - 1 - index)

    def walk_back(self, index: int) -> Iterator[tuple[int, HistoryMessage]]:
        """``(i, self[i])`` for ``i`` from ``index`` down to 0, read as lazily as indexing
        them one by one would (a newest-first walk without a call per message)."""
        length = self._length
        for rank in range(length - 1 - index, length):
            yield length - 1 - rank, self._view(rank)

    def _view(self, rank: int) -> HistoryMessage:
        """The ``rank``-th newest message (0: the newest), its page read when needed."""
        if rank >= self._depth:
            self._depth = rank + 1
        while len(self._newest) <= rank:
            if not self._load_page():
                raise IndexError(self._length - 1 - rank)
        view = self._views[rank]
        if view is None:
            view = self._views[rank] = to_history_message(self._newest[rank])
        return view

    def record(self, index: int) -> MessageRecord:
        """The stored record behind ``self[index]``."""
        self[index]
        return self._newest[self._length - 1 - (index % self._length)]

    def held(self) -> int:
        """How many of the newest messages this view holds now."""
        return len(self._newest)

    def depth(self) -> int:
        """How many of the newest messages were read through this view."""
        return self._depth

    def loaded(self, skip: int = 0) -> tuple[list[MessageRecord], list[HistoryMessage]]:
        """What this view holds now, newest first, records and views, without the newest
        ``skip`` (e.g. a message not stored yet)."""
        records = self._newest[skip:]
        views = [
            view if view is not None else to_history_message(record)
            for record, view in zip(records, self._views[skip:], strict=True)
        ]
        return records, views

    def _load_page(self) -> bool:
        before = self._newest[-1].position if self._newest else None
        size = min(max(FIRST_PAGE, len(self._newest)), MAX_PAGE)
        page = self._store.history(self._chat_id, limit=size, before_position=before)
        self._newest.extend(reversed(page))
        self._views.extend([None] * len(page))
        return bool(page)
