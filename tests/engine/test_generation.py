"""The engine's chat turn: commit order, partial replies, swipes, continue, impersonate."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from pytavern.engine import Engine
from pytavern.engine.generation import USER_SAVE_DELAY
from pytavern.engine.preferences import save_preferences
from pytavern.errors import StoreError
from pytavern.events import ErrorEvent, Finished, TextDelta
from pytavern.settings import Settings
from pytavern.store.turn_journal import journals_of, read_journal
from tests.fakes import openai_fake
from tests.fakes.server import FaultPlan, serve
from tests.scripted import Script, ScriptBook, cut_error


def new_chat(engine: Engine) -> int:
    character = engine.store.list_characters()[0]
    return engine.start_chat(character.id).id


async def test_new_chat_opens_with_the_greeting(engine: Engine) -> None:
    chat_id = new_chat(engine)
    history = engine.store.history(chat_id)
    assert len(history) == 1 and history[0].role == "assistant"
    assert "{{user}}" not in history[0].text and "User" in history[0].text


async def test_user_message_is_kept_before_the_reply_starts(
    engine: Engine, scripted: ScriptBook
) -> None:
    """Saving the message overlaps the upstream's start, but it is kept before the face
    gets the first event of the reply, and so is the reply's first text: noted in the turn
    journal (what the next opener of the database commits if this process dies now), and
    committed when the face asks for the next event."""
    chat_id = new_chat(engine)
    noted: list[str] = []
    committed: list[str] = []
    scripted.scripts.append(Script(["ok", "!"]))
    events = []
    other = Engine.open(engine.settings)  # another connection sees only what is committed
    database = engine.settings.database_path
    async for event in engine.generate(chat_id, "send", "Hello there"):
        if not events:
            for path in journals_of(database):
                noted.extend(m.text for write in read_journal(path) for m in write.messages)
        elif len(events) == 1:
            committed.extend(m.text for m in other.store.history(chat_id))
        events.append(event)
    await other.aclose()
    assert noted == ["Hello there", "ok"]
    assert committed[-2:] == ["Hello there", "ok"]
    assert isinstance(events[-1], Finished) and events[-1].reason == "stop"
    assert events[-1].extra["message_id"]
    texts = [m.text for m in engine.store.history(chat_id)]
    assert texts[-2:] == ["Hello there", "ok!"]
    request = scripted.requests[-1]
    assert request.messages[0].role == "system"
    assert request.messages[-1].content == "Hello there"


async def test_a_slow_upstream_has_the_message_stored_while_it_works(
    engine: Engine, scripted: ScriptBook
) -> None:
    """No first event within USER_SAVE_DELAY: the message is committed on its own, while
    the upstream is still silent (a long prompt, a queue), and exactly once."""
    chat_id = new_chat(engine)
    seen_while_waiting: list[str] = []
    other = Engine.open(engine.settings)

    def look() -> None:
        seen_while_waiting.extend(m.text for m in other.store.history(chat_id))

    scripted.scripts.append(Script(["late"], delay=USER_SAVE_DELAY * 80))
    events = engine.generate(chat_id, "send", "Anyone home?")
    first = asyncio.ensure_future(anext(events))
    silent_when_seen = False
    for _ in range(150):  # poll (a busy machine is slow to build the prompt) for 1.5 s
        await asyncio.sleep(0.01)
        look()
        if "Anyone home?" in seen_while_waiting:
            silent_when_seen = not first.done()
            break
    assert silent_when_seen
    assert isinstance(await first, TextDelta)
    _ = [e async for e in events]
    await other.aclose()
    assert seen_while_waiting[-1] == "Anyone home?"
    texts = [m.text for m in engine.store.history(chat_id)]
    assert texts[-2:] == ["Anyone home?", "late"] and texts.count("Anyone home?") == 1


async def test_second_turn_sees_the_first_exchange(engine: Engine, scripted: ScriptBook) -> None:
    chat_id = new_chat(engine)
    scripted.scripts.append(Script(["first reply"]))
    _ = [e async for e in engine.generate(chat_id, "send", "one")]
    _ = [e async for e in engine.generate(chat_id, "send", "two")]
    contents = [m.content for m in scripted.requests[-1].messages]
    assert contents[-3:] == ["one", "first reply", "two"]


async def test_stop_keeps_the_partial_reply_marked_incomplete(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = new_chat(engine)
    scripted.scripts.append(Script(["a", "b", "c", "d", "e"], delay=0.05))
    received: list[str] = []

    async def consume() -> None:
        async for event in engine.generate(chat_id, "send", "go"):
            if isinstance(event, TextDelta):
                received.append(event.text)

    task = asyncio.create_task(consume())
    while len(received) < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    last = engine.store.last_message(chat_id)
    assert last is not None and last.role == "assistant"
    assert last.text == "".join(received)
    assert last.swipe.status == "incomplete"
    assert last.swipe.finish_reason == "cancelled"
    assert engine.store.history(chat_id)[-2].text == "go"
    assert scripted.closed == 1


async def test_breaking_out_early_also_keeps_partial(engine: Engine, scripted: ScriptBook) -> None:
    chat_id = new_chat(engine)
    scripted.scripts.append(Script(["x", "y", "z"]))
    stream = engine.generate(chat_id, "send", "go")
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()
    last = engine.store.last_message(chat_id)
    assert last is not None and (last.text, last.swipe.status) == ("x", "incomplete")


async def test_a_first_write_that_fails_to_commit_is_committed_with_the_last(
    engine: Engine, scripted: ScriptBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The noted first write cannot commit once the client has its text (a locked
    database): the turn reports it, and its last write commits both messages, once."""
    chat_id = new_chat(engine)
    scripted.scripts.append(Script(["x", "y"]))
    commit_noted = engine.store.commit_noted
    tries: list[int] = []

    def locked_once(*args: Any, **kwargs: Any) -> Any:
        tries.append(1)
        if len(tries) == 1:
            raise StoreError("the database could not be read or written (OperationalError)")
        return commit_noted(*args, **kwargs)

    monkeypatch.setattr(engine.store, "commit_noted", locked_once)
    events = [event async for event in engine.generate(chat_id, "send", "go")]
    assert [type(event) for event in events] == [TextDelta, ErrorEvent, Finished]
    assert len(tries) == 2
    texts = [(m.text, m.swipe.status) for m in engine.store.history(chat_id)]
    assert texts[-2:] == [("go", "complete"), ("x", "incomplete")]
    assert engine.store.journal is not None and engine.store.journal.waiting == []


async def test_error_mid_stream_keeps_partial_and_reports(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = new_chat(engine)
    scripted.scripts.append(Script(["par", "tial"], error=cut_error()))
    events = [event async for event in engine.generate(chat_id, "send", "go")]
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert errors and errors[0].kind == "StreamInterruptedError"
    assert isinstance(events[-1], Finished) and events[-1].reason == "error"
    last = engine.store.last_message(chat_id)
    assert last is not None and last.text == "partial"
    assert last.swipe.status == "incomplete" and "cut" in (last.swipe.error or "")


async def test_error_before_any_text_keeps_only_the_user_message(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = new_chat(engine)
    scripted.scripts.append(Script([], error=cut_error()))
    _ = [event async for event in engine.generate(chat_id, "send", "hello?")]
    assert engine.store.last_message(chat_id).text == "hello?"  # type: ignore[union-attr]


async def test_swipe_regenerate_and_continue(engine: Engine, scripted: ScriptBook) -> None:
    chat_id = new_chat(engine)
    scripted.scripts += [Script(["one"]), Script(["two"]), Script(["three"]), Script([" more"])]
    _ = [e async for e in engine.generate(chat_id, "send", "hi")]
    _ = [e async for e in engine.generate(chat_id, "swipe")]
    _ = [e async for e in engine.generate(chat_id, "regenerate")]
    last = engine.store.last_message(chat_id)
    assert last is not None and (last.text, last.swipe_count, last.active_swipe) == ("three", 3, 2)
    assert scripted.requests[-1].messages[-1].content == "hi"
    _ = [e async for e in engine.generate(chat_id, "continue")]
    last = engine.store.last_message(chat_id)
    assert last is not None and last.text == "three more" and last.swipe_count == 3
    nudge = scripted.requests[-1].messages[-1]
    assert nudge.role == "system" and "Continue the following message" in nudge.content
    assert nudge.content.endswith("three]")


async def test_impersonate_saves_nothing(engine: Engine, scripted: ScriptBook) -> None:
    chat_id = new_chat(engine)
    before = len(engine.store.history(chat_id))
    scripted.scripts.append(Script(["I say"]))
    events = [e async for e in engine.generate(chat_id, "impersonate")]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "I say"
    assert len(engine.store.history(chat_id)) == before
    assert "point of view" in scripted.requests[-1].messages[-1].content


async def test_swipe_without_a_reply_is_a_clear_error(engine: Engine) -> None:
    character = engine.store.list_characters()[0]
    chat = engine.store.create_chat(character.id)
    with pytest.raises(Exception, match="no reply to swipe"):
        _ = [e async for e in engine.generate(chat.id, "swipe")]


async def test_reply_is_in_the_store_while_it_streams(engine: Engine, scripted: ScriptBook) -> None:
    """A killed server would leave what had arrived: the reply is written as it streams."""
    chat_id = new_chat(engine)
    scripted.scripts.append(Script(["first", " second", " third"]))
    stream = engine.generate(chat_id, "send", "go")
    texts = 0
    async for event in stream:
        texts += isinstance(event, TextDelta)
        if texts == 2:
            break
    last = engine.store.last_message(chat_id)
    assert last is not None and last.text.startswith("first") and last.swipe.status == "incomplete"
    assert last.text in ("first", "first second")
    async for _event in stream:
        pass
    last = engine.store.last_message(chat_id)
    assert last is not None and last.swipe.status == "complete"
    assert last.text == "first second third"
    assert len(engine.store.history(chat_id)) == 3


async def test_library_edits_reach_the_next_turn_even_from_another_process(
    engine: Engine, scripted: ScriptBook, data_dir: Path
) -> None:
    """The turn's library data is reused while unchanged, and re-read once anything
    changed it, here through a second engine on the same data folder."""
    chat_id = new_chat(engine)
    character = engine.store.get_chat(chat_id).character_id
    scripted.scripts.extend([Script(["a"]), Script(["b"]), Script(["c"])])
    _ = [e async for e in engine.generate(chat_id, "send", "one")]
    other = Engine.open(Settings(data_dir=data_dir))
    try:
        card = other.store.get_character(character).card
        card.setdefault("data", card)["description"] = "SENTINEL description"
        other.store.update_character(character, card)
        _ = [e async for e in engine.generate(chat_id, "send", "two")]
        prompt = " ".join(m.content for m in scripted.requests[-1].messages)
        assert "SENTINEL description" in prompt
        other.store.set_setting("generation", {"system_prompt": "SENTINEL prompt"})
        _ = [e async for e in engine.generate(chat_id, "send", "three")]
        assert "SENTINEL prompt" in scripted.requests[-1].messages[0].content
    finally:
        await other.aclose()


async def test_trim_sentences_cuts_the_saved_reply_after_its_last_sentence(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = new_chat(engine)
    save_preferences(engine.store, {"trim_sentences": True})
    scripted.scripts.append(Script(["The lamp flickers.", " Then she"]))
    events = [e async for e in engine.generate(chat_id, "send", "Hello")]
    assert isinstance(events[-1], Finished) and events[-1].extra["reply"] == "The lamp flickers."
    assert engine.store.history(chat_id)[-1].text == "The lamp flickers."


@pytest.mark.parametrize("fault", ["401", "cut"])
async def test_the_message_is_kept_when_a_real_upstream_fails(data_dir: Path, fault: str) -> None:
    """Over HTTP a refused request (401) or a cut stream still leaves the user's message
    in the chat."""
    plan = FaultPlan()
    key = "sk-right-0123456789" if fault == "cut" else "sk-wrong-0123456789"
    with serve(openai_fake.create_app(plan, key="sk-right-0123456789")) as base:
        engine = Engine.open(Settings(data_dir=data_dir))
        engine.store.save_connection(name="up", api="custom", url=f"{base}/v1", model="gpt-4o")
        engine.store.set_default_connection("up")
        engine.secrets.set("up", key)
        chat_id = new_chat(engine)
        if fault == "cut":
            plan.arm("cut")
        events = [e async for e in engine.generate(chat_id, "send", "Are you there?")]
        assert any(isinstance(e, ErrorEvent) for e in events)
        texts = [m.text for m in engine.store.history(chat_id)]
        assert "Are you there?" in texts
        await engine.aclose()
