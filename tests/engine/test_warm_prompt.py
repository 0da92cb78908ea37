"""A prompt built on a chat whose messages are cached (and keep what earlier builds made of
them) is the prompt a cold build makes; edits and a renamed persona are seen."""

from __future__ import annotations

from pytavern.engine import Engine
from pytavern.engine.generation import prepare_prompt
from pytavern.engine.preferences import save_preferences
from pytavern.engine.prompting import remember_history
from pytavern.engine.turn_loader import TurnRequest, load_turn
from pytavern.types import ChatMessage
from tests.scripted import Script, ScriptBook


async def prompt(engine: Engine, chat_id: int) -> tuple[ChatMessage, ...]:
    """The prompt of a ``send`` turn of ``chat_id`` (nothing is written)."""
    request = TurnRequest(chat_id, "send", "What now?", None)
    turn = load_turn(engine.store, engine.secrets, engine.parsed, request)
    provider = await engine.providers.get_for(turn.config)
    prepared = prepare_prompt(engine.store, turn, provider)
    remember_history(prepared)
    return prepared.built.messages


async def cold_prompt(engine: Engine, chat_id: int) -> tuple[ChatMessage, ...]:
    """The prompt built with nothing of the chat cached."""
    engine.parsed.chats.drop(chat_id)
    return await prompt(engine, chat_id)


async def test_a_warm_build_is_a_cold_one_and_sees_edits_and_a_renamed_persona(
    engine: Engine, scripted: ScriptBook
) -> None:
    chat_id = engine.start_chat(engine.store.list_characters()[0].id).id
    for index in range(300):
        role = "user" if index % 2 else "assistant"
        text = "I am {{user}}." if index == 297 else f"message {index} " * 6
        engine.store.append_message(chat_id, role=role, name="", text=text)
    save_preferences(engine.store, {"context_size": 1024, "sampling": {"max_tokens": 200}})
    for reply in ("one", "two"):
        scripted.scripts.append(Script([f"reply {reply}"]))
        _ = [e async for e in engine.generate(chat_id, "send", f"turn {reply}")]
    warm = await prompt(engine, chat_id)
    assert warm == await prompt(engine, chat_id) == await cold_prompt(engine, chat_id)
    assert await prompt(engine, chat_id) == warm  # warm again after the cold build
    assert ChatMessage("user", "I am User.") in warm

    persona = engine.store.save_persona(name="Ada")
    engine.store.set_default_persona(persona.id)
    renamed = await prompt(engine, chat_id)
    assert ChatMessage("user", "I am Ada.") in renamed
    assert renamed == await cold_prompt(engine, chat_id)

    older = engine.store.history(chat_id)[-6]
    engine.store.update_swipe(older.id, 0, text="edited, shorter", status="complete")
    edited = await prompt(engine, chat_id)
    assert any(message.content == "edited, shorter" for message in edited)
    assert edited == await cold_prompt(engine, chat_id)
