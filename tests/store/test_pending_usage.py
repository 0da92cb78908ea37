"""Ledger rows queued on the store: committed by the next write, never lost by a failed one."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.exc import OperationalError

import pytavern.store.queries as queries_module
from pytavern.errors import StoreError
from pytavern.store import Store
from pytavern.store.usage import UsageRow, list_usage


def _row(connection: str, owner_id: int = 0) -> UsageRow:
    return UsageRow(
        at=1_800_000_000.0,
        chat_id=None,
        connection=connection,
        api="custom",
        model="m",
        input_tokens=10,
        output_tokens=5,
        cached_tokens=None,
        cache_write_tokens=None,
        reasoning_tokens=None,
        duration=0.5,
        ttft=0.1,
        outcome="ok",
        owner_id=owner_id,
    )


def _connections(store: Store, owner_id: int = 0) -> list[str]:
    return [row.connection for row in list_usage(store.engine, owner_id)]


def test_queued_rows_join_the_next_write(store: Store) -> None:
    chat = store.create_chat(store.add_character({"name": "A"}).id)
    store.pending_usage.add(_row("a"))
    store.for_owner(7).pending_usage.add(_row("b", owner_id=7))  # one queue for every view
    assert _connections(store) == []
    with store.queries() as queries:
        queries.merge_chat_metadata(chat.id, {"k": 1})
    assert _connections(store) == ["a"] and _connections(store, 7) == ["b"]
    assert not store.pending_usage
    store.flush_usage()  # nothing queued: nothing written
    assert _connections(store) == ["a"]


def test_a_failed_transaction_keeps_the_rows_queued(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = store.create_chat(store.add_character({"name": "A"}).id)
    store.pending_usage.add(_row("kept"))
    with pytest.raises(RuntimeError), store.queries() as queries:
        queries.merge_chat_metadata(chat.id, {"k": 1})
        raise RuntimeError("the block failed")
    assert _connections(store) == [] and store.pending_usage

    def refused(connection: object, rows: object) -> None:
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(queries_module, "insert_usage", refused)
    with pytest.raises(StoreError):
        store.flush_usage()
    monkeypatch.undo()
    assert _connections(store) == [] and store.pending_usage
    store.flush_usage()
    assert _connections(store) == ["kept"]


def test_long_texts_are_clipped_to_their_columns(store: Store) -> None:
    store.pending_usage.add(dataclasses.replace(_row("c"), model="m" * 500))
    store.flush_usage()
    assert list_usage(store.engine, 0)[0].model == "m" * 200
