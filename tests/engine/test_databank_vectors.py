"""The Data Bank's search by meaning: the query is the newest messages shown, and the
chunks closest to it (cosine) at the minimum score or more are taken, closest first."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pytavern.engine import Engine
from pytavern.engine.databank_vectors import closest, query_text, vector_bytes
from pytavern.engine.preferences import save_preferences
from pytavern.store import MessageRecord, SwipeRecord
from pytavern.store.vectors import StoredVector
from tests.engine.test_databank import chat_with_services
from tests.fakes import openai_fake
from tests.fakes.server import FaultPlan, serve
from tests.scripted import ScriptBook


def message(text: str, *, hidden: bool = False, role: str = "user") -> MessageRecord:
    now = datetime.now(UTC)
    return MessageRecord(
        id=1,
        chat_id=1,
        position=0,
        role=role,
        name="Ann",
        active_swipe=0,
        swipe_count=1,
        swipe=SwipeRecord(index=0, text=text, status="complete", created_at=now),
        created_at=now,
        extra={"st": {"is_system": True}} if hidden else {},
    )


def chunk(text: str, *values: float) -> StoredVector:
    return StoredVector(1, 1, "Doc", 0, text, struct.pack(f"<{len(values)}f", *values))


def test_the_query_is_the_newest_messages_shown_oldest_first() -> None:
    newest = [
        message("Old one."),
        message("Hidden aside.", hidden=True),
        message("  "),
        message("Who keeps the lighthouse?", role="assistant"),
        message("Orrin, I think."),
    ]
    assert query_text(newest, 2) == "Who keeps the lighthouse?\nOrrin, I think."
    assert query_text(newest, 3) == "Old one.\nWho keeps the lighthouse?\nOrrin, I think."
    assert query_text([], 2) == ""


def test_the_closest_chunks_come_first_and_far_ones_are_left_out() -> None:
    stored = [
        chunk("east", 1.0, 0.0),
        chunk("north-east", 1.0, 1.0),
        chunk("north", 0.0, 2.0),
        chunk("west", -1.0, 0.0),
    ]
    query = [1.0, 0.2]
    assert [c.text for c in closest(stored, query, 4, 0.0)] == ["east", "north-east", "north"]
    assert [c.text for c in closest(stored, query, 2, 0.0)] == ["east", "north-east"]
    assert [c.text for c in closest(stored, query, 4, 0.9)] == ["east"]
    assert closest(stored, query, 0, 0.0) == []
    assert closest(stored, [0.0, 0.0], 4, 0.0) == []  # no direction: nothing is close


def test_vectors_of_another_size_or_of_zero_length_are_skipped() -> None:
    stored = [chunk("three", 1.0, 0.0, 0.0), chunk("zero", 0.0, 0.0), chunk("two", 0.5, 0.5)]
    assert [c.text for c in closest(stored, [1.0, 1.0], 5, 0.0)] == ["two"]


def test_a_vector_is_stored_as_little_endian_float32() -> None:
    assert vector_bytes([1.0, -2.5]) == struct.pack("<2f", 1.0, -2.5)


ORRIN = "The lighthouse keeper is called Orrin and he keeps the lamp lit."
MARKET = "Fish are sold at dawn on the long quay by the old market."
KEY = "sk-embed-0123456789abcdef"


@pytest.fixture
def embeddings_server(engine: Engine) -> Iterator[FaultPlan]:
    """A real HTTP server with OpenAI's embeddings API, as the connection ``embed``, which
    the Data Bank's settings pick (the chat goes to the scripted provider)."""
    plan = FaultPlan()
    with serve(openai_fake.create_app(plan, key=KEY)) as base:
        engine.store.save_connection(name="embed", api="custom", url=f"{base}/v1", model="x")
        engine.secrets.set("embed", KEY)
        embeddings = {"connection": "embed", "model": "text-embedding-3-small"}
        save_preferences(engine.store, {"databank": {"chunk_size": 100}, "embeddings": embeddings})
        yield plan


def _embedded(plan: FaultPlan) -> list[list[str]]:
    return [r["body"]["input"] for r in plan.requests if r["path"].endswith("/embeddings")]


def _vectors_kept(engine: Engine) -> int:
    with engine.store.engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM chunk_vectors").scalar()
    return int(count or 0)


async def test_the_closest_chunks_go_in_and_a_failing_server_falls_back_to_words(
    engine: Engine, scripted: ScriptBook, embeddings_server: FaultPlan
) -> None:
    services, chat_id, _character = chat_with_services(engine)
    document = services.databank.add_text("Harbour", f"{MARKET}\n\n{ORRIN}")
    assert await services.databank.make_vectors(document.id) == 2
    assert _embedded(embeddings_server) == [[MARKET, ORRIN]]
    save_preferences(engine.store, {"databank": {"results": 1}})
    assert _vectors_kept(engine) == 2

    await _send_turn(engine, chat_id, "Is the lamp of the lighthouse lit by the keeper Orrin?")
    sent = [m.content for m in scripted.requests[-1].messages]
    block = next(text for text in sent if "Related information:" in text)
    assert ORRIN in block and MARKET not in block
    (query,) = _embedded(embeddings_server)[-1]  # the chunks had theirs: only the query
    assert query.endswith("\nIs the lamp of the lighthouse lit by the keeper Orrin?")

    save_preferences(engine.store, {"databank": {"min_score": 0.99}})  # nothing that close
    await _send_turn(engine, chat_id, "Is the lamp of the lighthouse lit by the keeper Orrin?")
    assert all(ORRIN not in m.content for m in scripted.requests[-1].messages)

    embeddings_server.arm("500", "500", "500")  # the search by meaning fails: words find it
    await _send_turn(engine, chat_id, "Who keeps the lighthouse?")
    assert any(ORRIN in m.content for m in scripted.requests[-1].messages)
    assert engine.store.history(chat_id)[-1].role == "assistant"  # the reply came


async def test_chunks_without_vectors_get_them_at_the_turn(
    engine: Engine, scripted: ScriptBook, embeddings_server: FaultPlan
) -> None:
    services, chat_id, _character = chat_with_services(engine)
    embeddings_server.arm("500", "500", "500")  # down (and retried) when it is attached
    document = services.databank.add_text("Harbour", f"{MARKET}\n\n{ORRIN}", chat_id=chat_id)
    assert await services.databank.make_vectors(document.id) == 0
    assert _vectors_kept(engine) == 0

    await _send_turn(engine, chat_id, "Who keeps the lamp of the lighthouse?")
    assert _vectors_kept(engine) == 2
    greeting = engine.store.history(chat_id)[0].text
    assert _embedded(embeddings_server)[-2:] == [
        [MARKET, ORRIN],
        [f"{greeting}\nWho keeps the lamp of the lighthouse?"],  # the newest two messages
    ]
    assert any(ORRIN in m.content for m in scripted.requests[-1].messages)

    services.databank.remove(document.id)
    assert _vectors_kept(engine) == 0


async def test_words_when_by_meaning_is_off_or_the_connection_does_not_exist(
    engine: Engine, scripted: ScriptBook, embeddings_server: FaultPlan
) -> None:
    services, chat_id, _character = chat_with_services(engine)
    services.databank.add_text("Harbour", ORRIN)
    save_preferences(engine.store, {"databank": {"by_meaning": False}})
    await _send_turn(engine, chat_id, "Who keeps the lighthouse?")
    assert any(ORRIN in m.content for m in scripted.requests[-1].messages)
    assert _embedded(embeddings_server) == []

    save_preferences(engine.store, {"databank": {"by_meaning": True}})
    save_preferences(engine.store, {"embeddings": {"connection": "no-such-connection"}})
    await _send_turn(engine, chat_id, "Who keeps the lighthouse?")
    assert any(ORRIN in m.content for m in scripted.requests[-1].messages)
    assert _embedded(embeddings_server) == []


async def _send_turn(engine: Engine, chat_id: int, text: str) -> None:
    async for _event in engine.generate(chat_id, "send", text):
        pass


@pytest.mark.model
async def test_the_built_in_model_finds_chunks_by_meaning_with_no_server(
    engine: Engine, scripted: ScriptBook
) -> None:
    engine.store.save_connection(name="offline", api="local", options={"n_ctx": 512})
    databank = {"results": 1, "chunk_size": 100}
    save_preferences(engine.store, {"databank": databank, "embeddings": {"connection": "offline"}})
    services, chat_id, _character = chat_with_services(engine)
    document = services.databank.add_text("Harbour", f"{MARKET}\n\n{ORRIN}", chat_id=chat_id)
    assert await services.databank.make_vectors(document.id) == 2
    await _send_turn(engine, chat_id, "Who keeps the lamp of the lighthouse burning?")
    sent = [m.content for m in scripted.requests[-1].messages]
    block = next(text for text in sent if "Related information:" in text)
    assert ORRIN in block and MARKET not in block


async def test_vectors_made_in_the_background_and_closing_the_engine_waits_for_none(
    engine: Engine, embeddings_server: FaultPlan
) -> None:
    services, chat_id, _character = chat_with_services(engine)
    document = services.databank.add_text("Harbour", f"{MARKET}\n\n{ORRIN}", chat_id=chat_id)
    services.databank.start_vectors(document.id)
    for _ in range(200):
        if _vectors_kept(engine) == 2:
            break
        await asyncio.sleep(0.01)
    assert _vectors_kept(engine) == 2

    embeddings_server.stall_seconds = 30
    embeddings_server.arm("stall")
    other = services.databank.add_text("Other", "A second document.", chat_id=chat_id)
    services.databank.start_vectors(other.id)
    await asyncio.sleep(0.1)  # its request waits on the stalled server
    started = time.monotonic()
    await engine.aclose()  # cancels it rather than waiting for the server
    assert time.monotonic() - started < 5


async def test_the_users_message_is_stored_while_a_slow_lookup_runs(
    engine: Engine, embeddings_server: FaultPlan
) -> None:
    services, chat_id, _character = chat_with_services(engine)
    services.databank.add_text("Harbour", ORRIN, chat_id=chat_id)
    embeddings_server.stall_seconds = 1.0
    embeddings_server.arm("stall")  # the chunk's vector, made at the turn, waits

    async def turn() -> None:
        await _send_turn(engine, chat_id, "Who keeps the lamp?")

    running = asyncio.create_task(turn())
    await asyncio.sleep(0.4)
    assert not running.done()
    assert [m.text for m in engine.store.history(chat_id)][-1] == "Who keeps the lamp?"
    await running
    history = engine.store.history(chat_id)
    assert [m.text for m in history].count("Who keeps the lamp?") == 1  # stored once
    assert history[-1].role == "assistant"
