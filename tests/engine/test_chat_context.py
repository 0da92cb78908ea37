"""The per-chat context cache: later turns read no history, and every other write is seen."""

from __future__ import annotations

from typing import Any

import pytest

from pytavern.engine import Engine
from pytavern.engine.chat_context import SLACK, CachedChat, ChatContexts, message_bytes
from pytavern.engine.history import FIRST_PAGE
from pytavern.engine.reply_writer import ReplyTarget, ReplyWriter
from pytavern.events import Accumulator, TextDelta
from pytavern.store import MessageRecord, NewMessage, Queries, SwipeRecord
from tests.scripted import Script, ScriptBook


@pytest.fixture
def history_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Chat ids whose history was read from the database (any path)."""
    reads: list[int] = []
    original = Queries.history

    def counted(self: Queries, chat_id: int, **kwargs: Any) -> list[MessageRecord]:
        reads.append(chat_id)
        return original(self, chat_id, **kwargs)

    monkeypatch.setattr(Queries, "history", counted)
    return reads


def new_chat(engine: Engine) -> int:
    character = engine.store.list_characters()[0]
    return engine.start_chat(character.id).id


async def turn(engine: Engine, scripted: ScriptBook, chat_id: int, text: str, reply: str) -> None:
    scripted.scripts.append(Script([reply]))
    async for _event in engine.generate(chat_id, "send", text):
        pass


def sent(scripted: ScriptBook) -> list[str]:
    return [str(message.content) for message in scripted.requests[-1].messages]


async def test_the_next_turns_read_no_history_and_see_their_own_writes(
    engine: Engine, scripted: ScriptBook, history_reads: list[int]
) -> None:
    chat_id = new_chat(engine)
    await turn(engine, scripted, chat_id, "first", "reply one")
    assert history_reads == [chat_id]  # the first turn pages from the store
    await turn(engine, scripted, chat_id, "second", "reply two")
    await turn(engine, scripted, chat_id, "third", "reply three")
    assert history_reads == [chat_id]
    assert sent(scripted)[-5:] == ["first", "reply one", "second", "reply two", "third"]
    stored = [m.text for m in engine.store.history(chat_id)]
    assert stored[-6:] == ["first", "reply one", "second", "reply two", "third", "reply three"]


async def test_an_edit_a_delete_and_a_swipe_made_elsewhere_are_seen(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = new_chat(engine)
    await turn(engine, scripted, chat_id, "first", "reply one")
    await turn(engine, scripted, chat_id, "second", "reply two")
    messages = engine.store.history(chat_id)
    first, reply_one, second = messages[-4], messages[-3], messages[-2]
    engine.store.update_swipe(first.id, 0, text="first, edited", status="complete")
    await turn(engine, scripted, chat_id, "third", "reply three")
    assert "first, edited" in sent(scripted) and "first" not in sent(scripted)

    engine.store.delete_message(second.id)
    await turn(engine, scripted, chat_id, "fourth", "reply four")
    assert "second" not in sent(scripted)

    engine.store.add_swipe(reply_one.id, text="reply one, again")
    await turn(engine, scripted, chat_id, "fifth", "reply five")
    assert "reply one, again" in sent(scripted) and "reply one" not in sent(scripted)
    engine.store.set_active_swipe(reply_one.id, 0)
    await turn(engine, scripted, chat_id, "sixth", "reply six")
    assert "reply one" in sent(scripted) and "reply one, again" not in sent(scripted)


async def test_another_process_writing_the_chat_is_seen(
    engine: Engine, scripted: ScriptBook
) -> None:
    """Another engine on the same database (another server) shares no memory with this one:
    only the chat's revision in the database tells this one its cache is stale."""
    chat_id = new_chat(engine)
    await turn(engine, scripted, chat_id, "first", "reply one")
    other = Engine.open(engine.settings)
    try:
        await turn(other, scripted, chat_id, "from elsewhere", "reply elsewhere")
        last = other.store.history(chat_id)[-1]
        other.store.update_swipe(last.id, 0, text="reply elsewhere, edited", status="complete")
    finally:
        await other.aclose()
    await turn(engine, scripted, chat_id, "back here", "reply here")
    assert sent(scripted)[-5:] == [
        "first",
        "reply one",
        "from elsewhere",
        "reply elsewhere, edited",
        "back here",
    ]


async def test_regenerate_and_continue_update_the_cache(
    engine: Engine, scripted: ScriptBook, history_reads: list[int]
) -> None:
    chat_id = new_chat(engine)
    await turn(engine, scripted, chat_id, "first", "reply one")
    scripted.scripts.append(Script(["reply one, regenerated"]))
    async for _event in engine.generate(chat_id, "regenerate"):
        pass
    scripted.scripts.append(Script([" and more"]))
    async for _event in engine.generate(chat_id, "continue"):
        pass
    await turn(engine, scripted, chat_id, "second", "reply two")
    assert history_reads == [chat_id]
    assert sent(scripted)[-3:] == ["first", "reply one, regenerated and more", "second"]


def record(message_id: int, position: int, text: str, revision: int | None = None) -> MessageRecord:
    swipe = SwipeRecord(index=0, text=text, status="complete")
    return MessageRecord(
        id=message_id,
        chat_id=1,
        position=position,
        role="user",
        name="U",
        active_swipe=0,
        swipe_count=1,
        swipe=swipe,
        chat_revision=revision,
    )


def test_a_write_that_is_not_the_next_revision_drops_the_chat() -> None:
    contexts = ChatContexts()
    contexts.put(CachedChat.of(1, 10, [record(2, 1, "b"), record(1, 0, "a")]))
    contexts.written(record(3, 2, "c", revision=11))
    held = contexts.get(1, 11)
    assert held is not None and [r.text for r in held.records] == ["c", "b", "a"]
    contexts.written(record(4, 3, "d", revision=13))  # someone wrote revision 12
    assert contexts.get(1, 13) is None and len(contexts) == 0


def test_the_cache_is_bounded_by_chats_and_by_bytes() -> None:
    one = record(1, 0, "x" * 1000)
    contexts = ChatContexts(max_chats=2, max_bytes=3 * message_bytes(one))
    for chat_id in (1, 2, 3):
        contexts.put(CachedChat.of(chat_id, 0, [one]))
    assert contexts.get(1, 0) is None and len(contexts) == 2  # least recently used went
    contexts.get(2, 0)
    contexts.put(CachedChat.of(4, 0, [one, one]))  # over the bytes with 3: it goes
    assert contexts.get(3, 0) is None
    assert contexts.get(2, 0) is not None and contexts.get(4, 0) is not None
    assert contexts.size == 3 * message_bytes(one)
    contexts.put(CachedChat.of(5, 0, [one] * 4))  # bigger than the whole cache: not kept
    assert contexts.get(5, 0) is None and len(contexts) == 2


def test_a_failing_epilogue_never_costs_the_reply_its_final_text(engine: Engine) -> None:
    """The prompt's record rides in the reply's last transaction; if it fails, the reply's
    final write is made on its own before the error goes on."""
    chat_id = new_chat(engine)
    writer = ReplyWriter(engine.store, ReplyTarget("send", chat_id, "A", "s"))
    accumulator = Accumulator()
    accumulator.feed(TextDelta("partial"))
    writer.progress(accumulator)

    def broken(_queries: Queries) -> None:
        raise RuntimeError("epilogue failed")

    with pytest.raises(RuntimeError):
        writer.finish(
            accumulator, text="final text", status="complete", outcome={}, epilogue=broken
        )
    last = engine.store.history(chat_id)[-1]
    assert (last.text, last.swipe.status) == ("final text", "complete")


async def test_history_paged_by_the_first_build_is_kept_for_the_next(
    engine: Engine, scripted: ScriptBook, history_reads: list[int]
) -> None:
    """A chat longer than the first page: the first turn pages back as far as the context
    reaches; the next turn reads nothing and sends the same old messages."""
    character = engine.store.list_characters()[0]
    lines = [
        NewMessage(role="user" if i % 2 == 0 else "assistant", name="N", swipes=[f"line {i}"])
        for i in range(3 * FIRST_PAGE)
    ]
    chat_id = engine.store.import_chat(character.id, title="t", metadata={}, messages=lines).id
    await turn(engine, scripted, chat_id, "first", "reply one")
    pages = len(history_reads)
    assert pages > 1 and "line 0" in sent(scripted)
    await turn(engine, scripted, chat_id, "second", "reply two")
    assert len(history_reads) == pages
    texts = sent(scripted)
    assert texts[-4:] == [f"line {3 * FIRST_PAGE - 1}", "first", "reply one", "second"]
    old = [text for text in texts if text.startswith("line ")]
    assert old == [f"line {i}" for i in range(3 * FIRST_PAGE)]


def test_a_cached_chat_keeps_what_prompts_read_and_a_little_more() -> None:
    newest_first = [record(i, i, f"m{i}") for i in range(200, 0, -1)]
    cached = CachedChat.of(1, 5, newest_first).reshaped([], [], read=10)
    assert len(cached.records) == len(cached.views) == 10 + SLACK
    assert cached.size == sum(map(message_bytes, cached.records))
    after = cached.written(record(201, 201, "new", revision=6))
    assert after is not None and len(after.records) == 10 + SLACK
    assert after.records[0].text == "new" and after.views[0].text == "new"
    assert after.size == sum(map(message_bytes, after.records))
    older = after.written(record(195, 195, "m195 edited", revision=7))
    assert older is not None and older.records[6].text == "m195 edited"
    assert older.views[6].text == "m195 edited" and len(older.records) == 10 + SLACK
    assert older.written(record(1, 1, "not held", revision=8)) is None
