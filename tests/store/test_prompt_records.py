"""Prompt breakdowns written behind their turns: read first from what waits, written later,
the newest per chat, never for a chat that is gone or to another owner."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from pytavern.errors import StoreError
from pytavern.store import Store
from pytavern.store.prompt_records import WAITING_LIMIT, PendingPrompts


def _stored(store: Store) -> dict[int, str]:
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT chat_id, breakdown FROM chat_prompts"))
        return {row.chat_id: row.breakdown for row in rows}


def _chat(store: Store) -> int:
    character = store.add_character({"name": "A"})
    return store.create_chat(character.id).id


def test_a_kept_breakdown_is_read_before_it_is_written(store: Store) -> None:
    chat = _chat(store)
    made: list[int] = []

    def make() -> dict[str, Any]:
        made.append(1)
        return {"total_tokens": 5}

    store.keep_last_prompt(chat, make)
    assert made == []  # made when first needed, not when kept
    assert store.last_prompt(chat) == {"total_tokens": 5}
    assert store.last_prompt(chat) == {"total_tokens": 5}
    assert made == [1]
    assert _stored(store) == {}
    assert store.for_owner(7).last_prompt(chat) is None  # not another owner's to see


def test_writing_keeps_each_chats_newest_and_empties_the_queue(store: Store) -> None:
    first, second = _chat(store), _chat(store)
    with store.queries() as queries:
        queries.set_last_prompt(first, {"total_tokens": 1})  # an older one, stored
    for total in (2, 3):
        store.keep_last_prompt(first, lambda total=total: {"total_tokens": total})
    store.keep_last_prompt(second, lambda: {"total_tokens": 9})
    store.write_prompts()
    assert not store.pending_prompts
    assert {chat: len(value) > 0 for chat, value in _stored(store).items()} == {
        first: True,
        second: True,
    }
    assert store.last_prompt(first) == {"total_tokens": 3}
    assert store.last_prompt(second) == {"total_tokens": 9}
    store.write_prompts()  # nothing waits: no transaction, no change
    assert store.last_prompt(first) == {"total_tokens": 3}


def test_a_chat_deleted_while_its_breakdown_waits_is_skipped(store: Store) -> None:
    kept, gone = _chat(store), _chat(store)
    store.keep_last_prompt(gone, lambda: {"total_tokens": 1})
    store.keep_last_prompt(kept, lambda: {"total_tokens": 2})
    store.delete_chat(gone)
    store.write_prompts()
    assert set(_stored(store)) == {kept}


def test_a_failed_write_puts_the_breakdowns_back(store: Store) -> None:
    chat = _chat(store)

    def broken() -> dict[str, Any]:
        return {"total_tokens": float("nan"), "bad": {1: object()}}

    store.keep_last_prompt(chat, broken)
    with pytest.raises((StoreError, TypeError)):
        store.write_prompts()
    assert store.pending_prompts  # still waiting
    store.keep_last_prompt(chat, lambda: {"total_tokens": 4})  # a newer one replaces it
    store.write_prompts()
    assert store.last_prompt(chat) == {"total_tokens": 4}


def test_the_queue_says_when_too_many_chats_wait() -> None:
    pending = PendingPrompts()
    for chat in range(WAITING_LIMIT - 1):
        pending.keep(0, chat, dict)
    assert not pending.crowded()
    pending.keep(0, 0, dict)  # the same chat again: no more wait
    assert not pending.crowded()
    pending.keep(0, WAITING_LIMIT, dict)
    assert pending.crowded()
    assert len(pending.take()) == WAITING_LIMIT and not pending and not pending.crowded()


def test_closing_the_store_writes_what_waits(store: Store) -> None:
    chat = _chat(store)
    store.keep_last_prompt(chat, lambda: {"total_tokens": 6})
    url = store.engine.url
    store.close()
    again = Store.open(url.render_as_string(hide_password=False))
    try:
        assert again.last_prompt(chat) == {"total_tokens": 6}
    finally:
        again.close()
