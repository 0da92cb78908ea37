"""Recall: earlier messages of a long chat that share words with the newest ones go back
into the prompt, placed like a summary, never ones the prompt's history already holds."""

from __future__ import annotations

from pytavern.engine import Engine
from pytavern.engine.preferences import save_preferences
from pytavern.engine.services import Services
from pytavern.store import NewMessage
from tests.scripted import ScriptBook

LANTERN = "The silver lantern is hidden under the old bridge."


def _long_chat(engine: Engine) -> int:
    """200 messages about nothing, the lantern's hiding place among the first ones."""
    character = engine.store.list_characters()[0]
    texts = ["We walk on through the grey fields, talking of rain."] * 200
    texts[3] = LANTERN
    messages = [
        NewMessage(role="user" if i % 2 == 0 else "assistant", name="Ann", swipes=[t])
        for i, t in enumerate(texts)
    ]
    imported = engine.store.import_chat(character.id, title="long", metadata={}, messages=messages)
    return imported.id


async def _send(engine: Engine, chat_id: int, text: str) -> None:
    async for _event in engine.generate(chat_id, "send", text):
        pass


async def test_an_old_message_that_shares_words_comes_back(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = _long_chat(engine)
    save_preferences(engine.store, {"context_size": 1200})
    await _send(engine, chat_id, "Where did we leave the silver lantern?")
    assert all(LANTERN not in m.content for m in scripted.requests[-1].messages)

    save_preferences(engine.store, {"recall": {"enabled": True, "depth": 0}})
    await _send(engine, chat_id, "Where did we leave the silver lantern?")
    sent = scripted.requests[-1].messages
    assert sent[-1].role == "system"
    assert sent[-1].content == f"Past events:\nAnn: {LANTERN}"
    assert sum(LANTERN in m.content for m in sent) == 1
    shown = Services(engine).chats.last_prompt(chat_id)
    assert shown is not None and shown["total_tokens"] <= shown["budget"]


async def test_the_settings_place_it_and_nothing_comes_back_without_a_match(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = _long_chat(engine)
    recall = {
        "enabled": True,
        "query_messages": 1,
        "position": "in_prompt",
        "template": "Memories: {{text}} ({{char}})",
    }
    save_preferences(engine.store, {"context_size": 1200, "recall": recall})
    await _send(engine, chat_id, "The silver lantern, remember?")
    system = [m.content for m in scripted.requests[-1].messages if m.role == "system"]
    char = engine.store.list_characters()[0].name
    assert f"Memories: Ann: {LANTERN} ({char})" in system

    await _send(engine, chat_id, "Dragons and castles.")
    assert all("Memories" not in m.content for m in scripted.requests[-1].messages)


async def test_a_message_still_in_the_history_is_not_recalled(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = _long_chat(engine)
    save_preferences(engine.store, {"context_size": 100_000, "recall": {"enabled": True}})
    await _send(engine, chat_id, "Where did we leave the silver lantern?")
    sent = scripted.requests[-1].messages
    assert sum(LANTERN in m.content for m in sent) == 1
    assert all("Past events" not in m.content for m in sent)
