"""A chat's own settings and flags: hidden messages, the chat's author's note, a lorebook
bound to the chat or to the character, and the card's alternate greetings as swipes."""

from __future__ import annotations

from pytavern.engine import Engine, transfer
from pytavern.engine.chat_options import ChatOptions
from pytavern.engine.services import Services
from pytavern.engine.services.chats import message_public
from tests.scripted import Script, ScriptBook


def prompt_text(scripted: ScriptBook) -> str:
    return "\n".join(m.content for m in scripted.requests[-1].messages)


async def reply(engine: Engine, scripted: ScriptBook, chat_id: int, text: str) -> None:
    scripted.scripts.append(Script(["Fine."]))
    _ = [e async for e in engine.generate(chat_id, "send", text)]


async def test_a_hidden_message_stays_in_the_chat_and_leaves_the_prompt(
    engine: Engine, scripted: ScriptBook
) -> None:
    services = Services(engine)
    chat = engine.start_chat(engine.store.list_characters()[0].id)
    await reply(engine, scripted, chat.id, "The password is heron.")
    secret = engine.store.history(chat.id)[-2]
    assert message_public(services.messages.hide(secret.id, True))["hidden"] is True
    await reply(engine, scripted, chat.id, "What was the password?")
    assert "heron" not in prompt_text(scripted)
    assert any("heron" in m.text for m in engine.store.history(chat.id))
    exported = transfer.export_chat(engine.store, chat.id).decode()
    assert '"is_system": true' in exported.replace('"is_system":true', '"is_system": true')
    services.messages.hide(secret.id, False)
    await reply(engine, scripted, chat.id, "Again?")
    assert "heron" in prompt_text(scripted)


async def test_the_chats_author_note_replaces_the_settings_note(
    engine: Engine, scripted: ScriptBook
) -> None:
    services = Services(engine)
    chat = engine.start_chat(engine.store.list_characters()[0].id)
    other = engine.start_chat(engine.store.list_characters()[0].id)
    options = services.chats.set_options(
        chat.id, ChatOptions(note_prompt="[It is snowing.]", note_depth=1)
    )
    assert options["note_prompt"] == "[It is snowing.]" and options["note_depth"] == 1
    await reply(engine, scripted, chat.id, "Hello")
    assert "[It is snowing.]" in prompt_text(scripted)
    await reply(engine, scripted, other.id, "Hello")
    assert "[It is snowing.]" not in prompt_text(scripted)


async def test_lorebooks_bound_to_a_chat_or_a_character_fire_only_there(
    engine: Engine, scripted: ScriptBook
) -> None:
    services = Services(engine)
    entry = {"uid": 0, "key": ["harbour"], "content": "The harbour froze.", "position": 0}
    engine.store.save_lorebook("Chat book", {"entries": {"0": entry}})
    person = {**entry, "key": ["mill"], "content": "The mill burned."}
    engine.store.save_lorebook("Character book", {"entries": {"0": person}})
    character = engine.store.list_characters()[0]
    bound, unbound = (engine.start_chat(character.id) for _ in range(2))
    services.chats.set_options(bound.id, ChatOptions(world_info="Chat book"))
    await reply(engine, scripted, bound.id, "The harbour?")
    assert "The harbour froze." in prompt_text(scripted)
    await reply(engine, scripted, unbound.id, "The harbour?")
    assert "The harbour froze." not in prompt_text(scripted)
    services.chats.set_options(bound.id, ChatOptions(world_info=""))
    await reply(engine, scripted, bound.id, "The harbour?")
    assert "The harbour froze." not in prompt_text(scripted)

    card = dict(character.card)
    card["data"] = {**card["data"], "extensions": {"world": "Character book"}}
    engine.store.update_character(character.id, card)
    await reply(engine, scripted, unbound.id, "The mill?")
    assert "The mill burned." in prompt_text(scripted)


async def test_alternate_greetings_are_swipes_of_the_first_message(engine: Engine) -> None:
    card = {"name": "Greeter", "first_mes": "Hi {{user}}.", "alternate_greetings": ["Hey.", "Yo."]}
    character = engine.store.add_character(card)
    chat = engine.start_chat(character.id)
    [greeting] = engine.store.history(chat.id)
    assert (greeting.active_swipe, greeting.swipe_count) == (0, 3)
    assert greeting.text == "Hi User."
    assert [s.text for s in engine.store.list_swipes(greeting.id)] == ["Hi User.", "Hey.", "Yo."]
