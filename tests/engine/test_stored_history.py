"""A stored chat walked newest-first reads what indexing it message by message reads."""

from __future__ import annotations

from typing import cast

import pytest

from pytavern.engine.history import FIRST_PAGE, StoredHistory
from pytavern.prompt.common import NewestFirst
from pytavern.store import MessageRecord, Store, SwipeRecord


def record(position: int) -> MessageRecord:
    """A stored message; every fifth one hidden."""
    swipe = SwipeRecord(index=0, text=f"message {position}", status="complete")
    return MessageRecord(
        id=position + 1,
        chat_id=1,
        position=position,
        role="user" if position % 2 else "assistant",
        name="U",
        active_swipe=0,
        swipe_count=1,
        swipe=swipe,
        extra={"st": {"is_system": position % 5 == 0}},
    )


class PagedStore:
    """The store's history pages over a list, noting every page read."""

    def __init__(self, count: int) -> None:
        self.records = [record(i) for i in range(count)]
        self.pages: list[int] = []

    def history(
        self, chat_id: int, *, limit: int | None = None, before_position: int | None = None
    ) -> list[MessageRecord]:
        end = len(self.records) if before_position is None else before_position
        start = max(0, end - (limit or end))
        self.pages.append(end - start)
        return self.records[start:end]


def stored(count: int) -> tuple[StoredHistory, PagedStore]:
    store = PagedStore(count)
    return StoredHistory(cast(Store, store), 1, count), store


@pytest.mark.parametrize("read", [0, 1, FIRST_PAGE, FIRST_PAGE + 1, 150, 400])
def test_walking_back_reads_what_indexing_does(read: int) -> None:
    walked, walked_store = stored(400)
    indexed, indexed_store = stored(400)
    steps = walked.walk_back(399)
    got = [next(steps) for _ in range(read)]
    assert got == [(399 - i, indexed[399 - i]) for i in range(read)]
    assert walked.depth() == indexed.depth() == read
    assert walked.held() == indexed.held() and walked_store.pages == indexed_store.pages


def test_a_newest_first_view_of_a_stored_chat_reads_no_further_than_asked() -> None:
    history, _ = stored(400)
    view = NewestFirst(history, drop_last_reply=False)
    assert view.get(0) == (399, history[399])
    seen = []
    for i, item in enumerate(view):
        seen.append(item)
        if i == 9:
            break
    visible = [i for i in range(399, -1, -1) if i % 5]
    assert [index for index, _ in seen] == visible[:10]
    assert history.depth() == 400 - visible[9]
    assert view.get(12) == (visible[12], history[visible[12]])
    assert history.depth() == 400 - visible[12]
