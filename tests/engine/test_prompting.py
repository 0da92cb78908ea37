"""The engine builds prompts with the prompt engine: lore, persona, budget, text mode."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from pytavern.engine import Engine
from pytavern.engine.preferences import save_preferences
from pytavern.settings import Settings
from tests.scripted import Script, ScriptBook

LORE = {
    "entries": {
        "0": {
            "uid": 0,
            "key": ["lighthouse"],
            "keysecondary": [],
            "content": "The lighthouse has been dark for ten years.",
            "comment": "Lighthouse",
            "position": 0,
        },
        "1": {
            "uid": 1,
            "key": ["dragon"],
            "keysecondary": [],
            "content": "Dragons are extinct.",
            "comment": "Dragons",
            "position": 0,
        },
    }
}


async def test_global_lorebook_entry_fires_and_is_recorded(
    engine: Engine, scripted: ScriptBook
) -> None:
    engine.store.save_lorebook("Coast", LORE)
    save_preferences(engine.store, {"world_info": ["Coast"]})
    chat = engine.start_chat(engine.store.list_characters()[0].id)
    scripted.scripts.append(Script(["It is."]))
    _ = [e async for e in engine.generate(chat.id, "send", "Is the lighthouse haunted?")]
    system = "\n".join(m.content for m in scripted.requests[-1].messages if m.role == "system")
    assert "dark for ten years" in system and "Dragons are extinct" not in system
    last_prompt = engine.store.last_prompt(chat.id)
    assert [entry["comment"] for entry in last_prompt["lore"]] == ["Lighthouse"]
    assert last_prompt["total_tokens"] > 0 and last_prompt["parts"]


async def test_banned_macro_words_reach_backends_that_ban_tokens(
    engine: Engine, scripted: ScriptBook
) -> None:
    """SillyTavern's ``{{banned "word"}}``: gone from the prompt, added to the banned tokens
    of backends that take them (and only those)."""
    persona = engine.store.save_persona(
        name="Ada", description='Ada maps coasts.{{banned "delve"}}\n{{banned "tapestry"}}'
    )
    engine.store.set_default_persona(persona.id)
    save_preferences(engine.store, {"sampling": {"banned_tokens": ["shiver"]}})
    chat = engine.start_chat(engine.store.list_characters()[0].id)
    _ = [e async for e in engine.generate(chat.id, "send", "Hello")]
    sent = scripted.requests[-1]
    text = "\n".join(m.content for m in sent.messages)
    assert "Ada maps coasts." in text and "banned" not in text and "delve" not in text
    assert sent.sampling.banned_tokens == ["shiver"]
    engine.store.save_connection(
        name="t", api="scripted", options={"samplers": ["temperature", "banned_tokens"]}
    )
    engine.store.set_default_connection("t")
    _ = [e async for e in engine.generate(chat.id, "send", "Again")]
    assert scripted.requests[-1].sampling.banned_tokens == ["shiver", "delve", "tapestry"]


async def test_persona_name_and_description_are_used(engine: Engine, scripted: ScriptBook) -> None:
    persona = engine.store.save_persona(name="Ada", description="Ada is a cartographer.")
    engine.store.set_default_persona(persona.id)
    chat = engine.start_chat(engine.store.list_characters()[0].id)
    greeting = engine.store.history(chat.id)[0].text
    assert "Ada" in greeting
    _ = [e async for e in engine.generate(chat.id, "send", "Hello")]
    assert engine.store.history(chat.id)[1].name == "Ada"
    text = "\n".join(m.content for m in scripted.requests[-1].messages)
    assert "Ada is a cartographer." in text and "Write Wren's next reply" in text


async def test_long_chat_fills_only_the_context(engine: Engine, scripted: ScriptBook) -> None:
    chat = engine.start_chat(engine.store.list_characters()[0].id)
    for index in range(600):
        engine.store.append_message(
            chat.id,
            role="user" if index % 2 else "assistant",
            name="",
            text=f"message {index} " * 8,
        )
    save_preferences(engine.store, {"context_size": 1024, "sampling": {"max_tokens": 200}})
    _ = [e async for e in engine.generate(chat.id, "send", "latest")]
    contents = [m.content for m in scripted.requests[-1].messages]
    assert contents[-1] == "latest"
    assert not any("message 0 " in c for c in contents)
    history = engine.store.last_prompt(chat.id)["history"]
    assert 5 < history["included"] < history["total"]


def _written_prompts(engine: Engine) -> dict[int, dict[str, object]]:
    from sqlalchemy import text

    with engine.store.engine.connect() as connection:
        rows = connection.execute(text("SELECT chat_id, breakdown FROM chat_prompts"))
        return {row.chat_id: json.loads(row.breakdown) for row in rows}


async def test_a_turns_breakdown_is_shown_at_once_and_written_behind_it(
    engine: Engine, scripted: ScriptBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prompt inspector reads the newest breakdown as soon as the turn ends; the
    database gets each chat's newest once ``PROMPT_WRITE_DELAY`` has passed."""
    import pytavern.engine as engine_module

    monkeypatch.setattr(engine_module, "PROMPT_WRITE_DELAY", 0.05)
    chat = engine.start_chat(engine.store.list_characters()[0].id)
    for text in ("Hello", "Again"):
        _ = [e async for e in engine.generate(chat.id, "send", text)]
    shown = engine.store.last_prompt(chat.id)
    assert shown is not None and shown["tokenizer"] and shown["total_tokens"] > 0
    assert "Again" in json.dumps(shown["prompt"])
    assert _written_prompts(engine) == {}  # not yet: the turn's writes stay lean
    await asyncio.sleep(0.2)
    assert _written_prompts(engine) == {chat.id: shown}
    assert not engine.store.pending_prompts


async def test_closing_the_engine_writes_the_breakdowns_that_wait(
    data_dir: Path, scripted: ScriptBook
) -> None:
    engine = Engine.open(Settings(data_dir=data_dir))
    engine.store.save_connection(name="s", api="scripted")
    engine.store.set_default_connection("s")
    chat = engine.start_chat(engine.store.list_characters()[0].id)
    _ = [e async for e in engine.generate(chat.id, "send", "Hello")]
    shown = engine.store.last_prompt(chat.id)
    await engine.aclose()
    again = Engine.open(Settings(data_dir=data_dir))
    try:
        assert again.store.last_prompt(chat.id) == shown
    finally:
        await again.aclose()
