"""A chat's summary: made by a ``summarize`` turn, kept in the chat, sent in later prompts."""

from __future__ import annotations

import json

import pytest

from pytavern.engine import Engine
from pytavern.engine.chat_options import ChatOptions
from pytavern.engine.preferences import save_preferences
from pytavern.engine.services import Services
from pytavern.events import Finished, TextDelta, event_to_dict
from tests.scripted import Script, ScriptBook, cut_error


def _chat_with_a_turn(engine: Engine) -> int:
    character = engine.store.list_characters()[0]
    return engine.start_chat(character.id).id


async def _chat_with_two_summaries(engine: Engine, scripted: ScriptBook) -> int:
    """A chat whose summary "Early." was made at its 3rd message, "Late." at its 5th."""
    chat_id = _chat_with_a_turn(engine)
    await _run(engine, chat_id, "send", "One")
    scripted.scripts.append(Script(["Early."]))
    await _run(engine, chat_id, "summarize")
    await _run(engine, chat_id, "send", "Two")
    scripted.scripts.append(Script(["Late."]))
    await _run(engine, chat_id, "summarize")
    return chat_id


async def _run(engine: Engine, chat_id: int, mode: str, text: str | None = None) -> list[object]:
    return [event async for event in engine.generate(chat_id, mode, text)]  # type: ignore[arg-type]


async def test_a_summary_is_kept_in_the_chat_not_as_a_message(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = _chat_with_a_turn(engine)
    await _run(engine, chat_id, "send", "We found the old map.")
    before = [(m.id, m.text) for m in engine.store.history(chat_id)]
    save_preferences(engine.store, {"summary": {"words": 42}})
    scripted.scripts.append(Script(["The pair", " found a map."]))
    events = await _run(engine, chat_id, "summarize")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "The pair found a map."
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.extra["summary_saved"] is True
    assert "message_id" not in finished.extra
    assert [(m.id, m.text) for m in engine.store.history(chat_id)] == before
    ask = scripted.requests[-1].messages[-1]
    assert ask.role == "system" and "Limit the summary to 42 words" in ask.content
    assert scripted.requests[-1].messages[-2].content == before[-1][1]
    options = Services(engine).chats.options(chat_id)
    assert options["summary"] == "The pair found a map."
    assert options["summary_at"] == len(before)


async def test_later_turns_send_the_summary_where_the_settings_say(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = _chat_with_a_turn(engine)
    scripted.scripts.append(Script(["Sera keeps the glade."]))
    await _run(engine, chat_id, "summarize")
    await _run(engine, chat_id, "send", "Hello")
    system = [m.content for m in scripted.requests[-1].messages if m.role == "system"]
    assert "[Summary: Sera keeps the glade.]" in system
    save_preferences(
        engine.store,
        {"summary": {"position": "in_chat", "depth": 0, "template": "Recap: {{summary}}"}},
    )
    await _run(engine, chat_id, "send", "Again")
    last = scripted.requests[-1].messages[-1]
    assert last.content == "Recap: Sera keeps the glade."
    save_preferences(engine.store, {"summary": {"position": "none"}})
    await _run(engine, chat_id, "send", "Once more")
    assert all("Sera keeps" not in m.content for m in scripted.requests[-1].messages)


async def test_a_summary_cut_short_keeps_the_one_there_was(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = _chat_with_a_turn(engine)
    scripted.scripts.append(Script(["Whole summary."]))
    await _run(engine, chat_id, "summarize")
    scripted.scripts.append(Script(["Half a sum"], error=cut_error()))
    events = await _run(engine, chat_id, "summarize")
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.extra["summary_saved"] is False
    assert Services(engine).chats.options(chat_id)["summary"] == "Whole summary."


async def test_the_user_edits_or_removes_the_summary(engine: Engine, scripted: ScriptBook) -> None:
    chat_id = _chat_with_a_turn(engine)
    chats = Services(engine).chats
    shown = chats.set_options(chat_id, ChatOptions(summary="  Typed by hand.  "))
    assert shown["summary"] == "Typed by hand." and shown["summary_at"] == 1
    await _run(engine, chat_id, "send", "Hi")
    assert any(m.content == "[Summary: Typed by hand.]" for m in scripted.requests[-1].messages)
    assert chats.set_options(chat_id, ChatOptions(summary=""))["summary"] == ""
    await _run(engine, chat_id, "send", "Hi again")
    assert all("Typed by hand" not in m.content for m in scripted.requests[-1].messages)


async def test_the_summary_macro_stands_for_it_in_any_prompt(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = _chat_with_a_turn(engine)
    Services(engine).chats.set_options(chat_id, ChatOptions(summary="Old news."))
    save_preferences(
        engine.store,
        {"system_prompt": "Play {{char}}. So far: {{summary}}", "summary": {"position": "none"}},
    )
    await _run(engine, chat_id, "send", "Hi")
    assert scripted.requests[-1].messages[0].content.endswith("So far: Old news.")


async def test_an_empty_chat_has_nothing_to_summarize(engine: Engine) -> None:
    character = engine.store.list_characters()[0]
    chat = engine.store.create_chat(character.id)
    with pytest.raises(Exception, match="nothing to summarize") as caught:
        await _run(engine, chat.id, "summarize")
    assert "Chat for a while first" in str(getattr(caught.value, "hint", ""))


def _st_line(name: str, text: str, *, is_user: bool, memory: str | None = None) -> str:
    extra = {"memory": memory} if memory else {}
    return json.dumps(
        {
            "name": name,
            "is_user": is_user,
            "is_system": False,
            "send_date": "June 1, 2025 10:00am",
            "mes": text,
            "extra": extra,
        },
        separators=(",", ":"),
    )


ST_CHAT = "\n".join(
    [
        json.dumps(
            {
                "user_name": "Ann",
                "character_name": "Wren",
                "create_date": "June 1, 2025 10:00am",
                "chat_metadata": {},
            },
            separators=(",", ":"),
        ),
        _st_line("Wren", "Hello.", is_user=False),
        _st_line("Ann", "We sail at dawn.", is_user=True, memory="Old memory."),
        _st_line("Wren", "Aye.", is_user=False, memory="They sail at dawn."),
        _st_line("Ann", "Go on.", is_user=True),
    ]
)


async def test_sillytavern_chat_files_carry_the_summary_both_ways(engine: Engine) -> None:
    services = Services(engine)
    character = engine.store.list_characters()[0]
    chat = services.chats.import_bytes(ST_CHAT.encode(), "Wren - sail.jsonl", character.id)
    options = services.chats.options(chat.id)
    assert options["summary"] == "They sail at dawn." and options["summary_at"] == 3
    assert services.chats.export(chat.id).decode().strip() == ST_CHAT
    services.chats.set_options(chat.id, ChatOptions(summary="Rewritten."))
    lines = [json.loads(line) for line in services.chats.export(chat.id).decode().splitlines()]
    assert [line.get("extra", {}).get("memory") for line in lines[1:]] == [
        None,
        "Old memory.",
        "They sail at dawn.",  # SillyTavern's older memories stay where they were
        "Rewritten.",
    ]
    assert "summary" not in lines[0]["chat_metadata"]
    again = services.chats.import_bytes(services.chats.export(chat.id), "again.jsonl", character.id)
    assert services.chats.options(again.id)["summary"] == "Rewritten."


async def test_a_branch_keeps_the_summaries_of_messages_it_copies(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = await _chat_with_two_summaries(engine, scripted)
    services = Services(engine)
    history = engine.store.history(chat_id)
    whole = services.chats.branch(history[-1].id)
    assert services.chats.options(whole.id)["summary"] == "Late."
    middle = services.chats.branch(history[2].id)  # the reply the early summary was made at
    assert services.chats.options(middle.id)["summary"] == "Early."
    copied = engine.store.history(middle.id)
    services.messages.delete(copied[-1].id)  # the copy it was made at, in the branch
    assert services.chats.options(middle.id)["summary"] == ""
    assert services.chats.options(chat_id)["summary"] == "Late."
    early = services.chats.branch(history[0].id)
    assert services.chats.options(early.id)["summary"] == ""


async def test_a_group_chat_is_summarized_with_every_members_card(
    engine: Engine, scripted: ScriptBook
) -> None:
    engine.store.add_character(
        {
            "spec": "chara_card_v2",
            "spec_version": "2.0",
            "data": {"name": "Bob", "description": "Bob bakes bread."},
        }
    )
    services = Services(engine)
    group = services.groups.create("Bakery", ["Wren", "Bob"], strategy="list")
    await services.groups.send(group.id, "Morning!")
    scripted.scripts.append(Script(["Both greeted the day."]))
    result = await services.generation.run(group.chat_id or 0, "summarize")
    assert result.finished is not None and result.finished.extra["summary_saved"] is True
    system = "\n".join(m.content for m in scripted.requests[-1].messages if m.role == "system")
    assert "Bob bakes bread." in system and "Wren" in system
    assert services.chats.options(group.chat_id or 0)["summary"] == "Both greeted the day."


async def test_deleting_the_message_a_summary_was_made_at_brings_the_one_before_back(
    engine: Engine, scripted: ScriptBook
) -> None:
    """SillyTavern keeps each summary on the newest message when it was made: deleting that
    message (a reply the user threw away) takes its summary with it."""
    services = Services(engine)
    chat_id = await _chat_with_two_summaries(engine, scripted)
    assert services.chats.options(chat_id)["summary"] == "Late."
    history = engine.store.history(chat_id)
    services.messages.delete(history[1].id)  # an older message: the summary stays
    assert services.chats.options(chat_id)["summary"] == "Late."
    services.messages.delete(history[-1].id)  # the reply it was made at
    options = services.chats.options(chat_id)
    assert options["summary"] == "Early." and options["summary_at"] == 3
    await _run(engine, chat_id, "send", "Three")
    assert any(m.content == "[Summary: Early.]" for m in scripted.requests[-1].messages)
    services.messages.delete(history[2].id)  # the one the early summary was made at
    assert services.chats.options(chat_id)["summary"] == ""


async def test_a_chat_keeps_a_few_summaries_behind_its_own(engine: Engine) -> None:
    services = Services(engine)
    chat_id = _chat_with_a_turn(engine)
    for n in range(8):
        services.chats.set_options(chat_id, ChatOptions(summary=f"Version {n}."))
    entry = engine.store.get_chat(chat_id).metadata["summary"]
    assert entry["text"] == "Version 7." and entry["edited"] is True
    assert [e["text"] for e in entry["previous"]] == [f"Version {n}." for n in (6, 5, 4, 3)]
    assert all("previous" not in e for e in entry["previous"])


async def test_an_exported_chat_has_each_summary_on_the_message_it_was_made_at(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = await _chat_with_two_summaries(engine, scripted)
    services = Services(engine)
    exported = services.chats.export(chat_id)
    lines = [json.loads(line) for line in exported.decode().splitlines()[1:]]
    assert [line.get("extra", {}).get("memory") for line in lines] == [
        None,
        None,
        "Early.",
        None,
        "Late.",
    ]
    character = engine.store.list_characters()[0]
    again = services.chats.import_bytes(exported, "again.jsonl", character.id)
    assert services.chats.options(again.id)["summary"] == "Late."


async def test_a_summary_may_have_its_own_reply_length(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = _chat_with_a_turn(engine)
    save_preferences(engine.store, {"summary": {"max_tokens": 777}})
    await _run(engine, chat_id, "summarize")
    assert scripted.requests[-1].sampling.max_tokens == 777
    await _run(engine, chat_id, "send", "Hi")
    assert scripted.requests[-1].sampling.max_tokens != 777
    save_preferences(engine.store, {"summary": {"max_tokens": 0}})
    await _run(engine, chat_id, "summarize")
    assert scripted.requests[-1].sampling.max_tokens == scripted.requests[-2].sampling.max_tokens


async def test_summaries_read_from_a_chat_file_go_back_when_their_message_is_deleted(
    engine: Engine,
) -> None:
    services = Services(engine)
    character = engine.store.list_characters()[0]
    chat = services.chats.import_bytes(ST_CHAT.encode(), "Wren - sail.jsonl", character.id)
    history = engine.store.history(chat.id)
    services.messages.delete(history[2].id)  # "Aye.", where "They sail at dawn." was made
    options = services.chats.options(chat.id)
    assert options["summary"] == "Old memory." and options["summary_at"] == 2
    branch = services.chats.branch(history[1].id)
    assert services.chats.options(branch.id)["summary"] == "Old memory."
    services.messages.delete(engine.store.history(branch.id)[-1].id)
    assert services.chats.options(branch.id)["summary"] == ""
    assert services.chats.options(chat.id)["summary"] == "Old memory."


def _due(events: list[object]) -> bool:
    finished = events[-1]
    assert isinstance(finished, Finished)
    return bool(finished.extra.get("summary_due"))


async def test_a_reply_says_when_the_chat_is_due_a_new_summary(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = _chat_with_a_turn(engine)  # the greeting: 1 message
    assert not _due(await _run(engine, chat_id, "send", "One"))  # every is 0: never
    save_preferences(engine.store, {"summary": {"every": 4}})
    assert not _due(await _run(engine, chat_id, "swipe"))  # 3 messages, no summary yet
    assert _due(await _run(engine, chat_id, "send", "Two"))  # 5 >= 4
    assert not _due(await _run(engine, chat_id, "impersonate"))  # nothing saved
    summarized = await _run(engine, chat_id, "summarize")
    assert not _due(summarized) and "summary_due" not in event_to_dict(summarized[-1])  # type: ignore[arg-type]
    assert not _due(await _run(engine, chat_id, "regenerate"))  # 5 - 5 < 4
    assert not _due(await _run(engine, chat_id, "send", "Three"))  # 7 - 5 < 4
    due = await _run(engine, chat_id, "send", "Four")  # 9 - 5 >= 4
    assert _due(due) and event_to_dict(due[-1])["summary_due"] is True  # type: ignore[arg-type]
    scripted.scripts.append(Script(["Half a rep"], error=cut_error()))
    assert not _due(await _run(engine, chat_id, "regenerate"))  # cut short: not told


async def test_a_group_turn_says_when_its_chat_is_due_a_summary(engine: Engine) -> None:
    engine.store.add_character(
        {
            "spec": "chara_card_v2",
            "spec_version": "2.0",
            "data": {"name": "Bob", "description": "Bob bakes bread."},
        }
    )
    services = Services(engine)
    save_preferences(engine.store, {"summary": {"every": 3}})
    group = services.groups.create("Bakery", ["Wren", "Bob"], strategy="list")
    events = [event async for event in services.groups.events(group.id, "send", text="Hi")]
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.extra["summary_due"] is True
