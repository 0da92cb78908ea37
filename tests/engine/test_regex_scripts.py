"""Regex scripts in a chat: AI-output scripts change the stored reply, user-input scripts the
stored message, display-only scripts only what is shown; a card's scripts run once allowed."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pytavern.engine import regex_scripts
from pytavern.engine.services import Services
from pytavern.formats.cards import card_from_dict
from pytavern.settings import Settings
from tests.scripted import Script, ScriptBook


def st_file(**fields: Any) -> bytes:
    """A regex script as SillyTavern's Regex extension exports it."""
    script = {
        "id": fields.pop("id", "b7d8c0e2"),
        "scriptName": "Tidy",
        "findRegex": "/colour/g",
        "replaceString": "color",
        "trimStrings": [],
        "placement": [2],
        "disabled": False,
        "markdownOnly": False,
        "promptOnly": False,
        "runOnEdit": True,
        "substituteRegex": 0,
        "minDepth": None,
        "maxDepth": None,
    }
    return json.dumps(script | fields).encode()


@pytest.fixture
def services(data_dir: Path, scripted: ScriptBook) -> Services:
    services = Services.open(Settings(data_dir=data_dir))
    services.engine.store.save_connection(name="s", api="scripted")
    services.engine.store.set_default_connection("s")
    return services


def start(services: Services) -> int:
    return services.chats.start(services.characters.all()[0].id).id


async def test_ai_output_script_changes_the_stored_reply(
    services: Services, scripted: ScriptBook
) -> None:
    services.regex.import_bytes(st_file())
    chat_id = start(services)
    scripted.scripts.append(Script(["What a col", "our!"]))
    result = await services.generation.run(chat_id, "send", "Which colour?")
    assert result.reply == "What a color!"
    texts = [m.text for m in services.chats.history(chat_id)]
    assert texts[-2:] == ["Which colour?", "What a color!"]  # user input untouched


async def test_scripts_kept_between_turns_follow_a_change_of_them(
    services: Services, scripted: ScriptBook
) -> None:
    chat_id = start(services)
    scripted.scripts += [Script(["colour one"]), Script(["colour two"]), Script(["colour 3"])]
    assert (await services.generation.run(chat_id, "send", "1")).reply == "colour one"
    services.regex.import_bytes(st_file())  # a library write: the kept scripts are stale
    assert (await services.generation.run(chat_id, "send", "2")).reply == "color two"
    services.regex.replace_global([])
    assert (await services.generation.run(chat_id, "send", "3")).reply == "colour 3"


async def test_user_input_script_changes_the_stored_message(
    services: Services, scripted: ScriptBook
) -> None:
    services.regex.import_bytes(st_file(placement=[1], findRegex="/teh/g", replaceString="the"))
    chat_id = start(services)
    scripted.scripts.append(Script(["teh end"]))
    await services.generation.run(chat_id, "send", "teh start")
    texts = [m.text for m in services.chats.history(chat_id)]
    assert texts[-2:] == ["the start", "teh end"]
    assert scripted.requests[-1].messages[-1].content == "the start"


async def test_display_only_script_changes_only_what_is_shown(
    services: Services, scripted: ScriptBook
) -> None:
    services.regex.import_bytes(st_file(markdownOnly=True, replaceString="COLOR", maxDepth=0))
    chat_id = start(services)
    scripted.scripts += [Script(["colour one"]), Script(["colour two"])]
    await services.generation.run(chat_id, "send", "hi")
    await services.generation.run(chat_id, "send", "again")
    history = services.chats.history(chat_id)
    assert [m.text for m in history[-3:]] == ["colour one", "again", "colour two"]
    shown = services.regex.display(chat_id, history)
    assert shown[-3:] == ["colour one", "again", "COLOR two"]  # depth 0 only
    assert "colour" in scripted.requests[-1].messages[-2].content


async def test_a_cards_scripts_run_only_once_allowed(
    services: Services, scripted: ScriptBook
) -> None:
    character = services.characters.all()[0]
    card = character.card
    card["data"].setdefault("extensions", {})["regex_scripts"] = [
        json.loads(st_file(findRegex="/Hello/", replaceString="Howdy"))
    ]
    services.characters.update(character.id, card)
    chat_id = start(services)
    scripted.scripts += [Script(["Hello A"]), Script(["Hello B"])]
    assert (await services.generation.run(chat_id, "send", "1")).reply == "Hello A"
    services.regex.allow_character(character.id, True)
    assert (await services.generation.run(chat_id, "send", "2")).reply == "Howdy B"
    listed = services.regex.all(character.id)
    assert [(s.scope, s.allowed) for s in listed] == [("character", True)]


async def test_import_to_a_character_and_export_round_trip(services: Services) -> None:
    character = services.characters.all()[0]
    services.regex.import_bytes(st_file(id="x1"), character_id=character.id)
    exported = json.loads(services.regex.export(character_id=character.id))
    assert exported["id"] == "x1" and exported["findRegex"] == "/colour/g"
    assert services.regex.settings().allowed_characters == [character.id]


async def test_live_test_box(services: Services) -> None:
    script = json.loads(st_file(findRegex="/{{char}}/g", substituteRegex=1, replaceString="X"))
    result = services.regex.test(script, "Seraphina waves", char="Seraphina")
    assert result == {"output": "X waves", "pattern": "/Seraphina/g", "valid": True}
    assert services.regex.test(script | {"findRegex": "/(/"}, "a")["valid"] is False


async def test_edits_run_only_scripts_marked_run_on_edit(services: Services) -> None:
    services.regex.import_bytes(st_file(id="a", findRegex="/x/g", replaceString="y"))
    services.regex.import_bytes(
        st_file(id="b", findRegex="/p/g", replaceString="q", runOnEdit=False)
    )
    chat_id = start(services)
    greeting = services.chats.history(chat_id)[0]
    assert services.messages.edit(greeting.id, "x p").text == "y p"


async def test_prompt_only_script_changes_only_what_is_sent(
    services: Services, scripted: ScriptBook
) -> None:
    services.regex.import_bytes(
        st_file(promptOnly=True, placement=[1, 2], replaceString="PROMPT", minDepth=1)
    )
    chat_id = start(services)
    scripted.scripts += [Script(["colour A"]), Script(["B"])]
    await services.generation.run(chat_id, "send", "colour 1")
    await services.generation.run(chat_id, "send", "colour 2")
    sent = [m.content for m in scripted.requests[-1].messages]
    assert "PROMPT 1" in sent and "PROMPT A" in sent
    assert sent[-1] == "colour 2"  # depth 0 is below minDepth
    texts = [m.text for m in services.chats.history(chat_id)]
    assert texts[-4:] == ["colour 1", "colour A", "colour 2", "B"]


async def test_reasoning_scripts_change_the_stored_reasoning_over_http(data_dir: Path) -> None:
    """Against the OpenAI fake (model ``thinker`` streams reasoning first): the reasoning
    placement changes the stored reasoning, the AI-output placement the stored text."""
    from tests.fakes import openai_fake
    from tests.fakes.server import FaultPlan, serve

    with serve(openai_fake.create_app(FaultPlan(), key="sk-right-0123456789")) as base:
        services = Services.open(Settings(data_dir=data_dir))
        store = services.engine.store
        store.save_connection(name="up", api="custom", url=f"{base}/v1", model="thinker")
        store.set_default_connection("up")
        services.engine.secrets.set("up", "sk-right-0123456789")
        services.regex.import_bytes(
            st_file(id="r", placement=[6], findRegex="/Thinking/", replaceString="Pondering")
        )
        services.regex.import_bytes(st_file(id="t", findRegex="/e/g", replaceString="3"))
        chat_id = start(services)
        result = await services.generation.run(chat_id, "send", "hello there")
        result.raise_error()
        swipe = services.chats.history(chat_id)[-1].swipe
        assert swipe.reasoning == "Pondering about it."
        assert "e" not in swipe.text and swipe.text == result.reply
        await services.aclose()


LORE = {
    "entries": {
        "0": {
            "uid": 0,
            "key": ["lighthouse"],
            "content": "The lighthouse is haunted.",
            "position": 0,
        },
        "1": {
            "uid": 1,
            "key": ["lighthouse"],
            "content": "The keeper hides a lantern.",
            "position": 4,
            "depth": 2,
        },
        "2": {"uid": 2, "key": ["lighthouse"], "content": "DROP ME", "position": 1},
    }
}


async def test_world_info_scripts_rewrite_the_entries_sent(
    services: Services, scripted: ScriptBook
) -> None:
    services.lorebooks.save("Coast", LORE)
    services.lorebooks.set_active("Coast", True)
    rewrite = {"findRegex": "/haunted|lantern/g", "replaceString": "[{{match}}]"}
    services.regex.import_bytes(st_file(id="wi1", placement=[5], promptOnly=True, **rewrite))
    drop = {"findRegex": "/^DROP ME$/", "replaceString": ""}
    services.regex.import_bytes(st_file(id="wi2", placement=[5], promptOnly=True, **drop))
    stored_only = {"findRegex": "/keeper/g", "replaceString": "WARDEN"}  # not prompt-only
    services.regex.import_bytes(st_file(id="wi3", placement=[5], **stored_only))
    # depth limits hold for @depth entries only (the others have no depth: SillyTavern runs
    # such a script on them whatever its limits)
    deep = {"findRegex": "/is|keeper/g", "replaceString": "{{match}}!", "maxDepth": 1}
    services.regex.import_bytes(st_file(id="wi4", placement=[5], promptOnly=True, **deep))
    chat_id = start(services)
    scripted.scripts.append(Script(["Aye."]))
    await services.generation.run(chat_id, "send", "Tell me about the lighthouse")
    sent = "\n".join(m.content for m in scripted.requests[-1].messages)
    assert "The lighthouse is! [haunted]." in sent  # before the card: no depth
    assert "The keeper hides a [lantern]." in sent  # @depth 2, beyond maxDepth 1
    assert "DROP ME" not in sent and "WARDEN" not in sent
    stored = services.lorebooks.get("Coast").data["entries"]["0"]["content"]
    assert stored == "The lighthouse is haunted."  # the book itself is untouched


def test_an_equal_card_reuses_the_kept_scripts_and_another_does_not(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group's joined card is a new object every turn: with the same scripts of its own
    it finds the scripts kept for the library revision; with others it reads them."""
    store = services.engine.store
    character = services.characters.all()[0]
    reads: list[int] = []
    load = regex_scripts.load_settings

    def counted(*args: Any) -> Any:
        reads.append(1)
        return load(*args)

    monkeypatch.setattr(regex_scripts, "load_settings", counted)
    raw = {"spec": "chara_card_v2", "data": {"name": "A", "extensions": {}}}
    for _ in range(3):
        card = card_from_dict(copy.deepcopy(raw))
        regex_scripts.script_set(store, character.id, card, "U", revision="r-test")
    assert len(reads) == 1
    scripted = copy.deepcopy(raw)
    scripted["data"]["extensions"][regex_scripts.CARD_KEY] = [json.loads(st_file())]
    regex_scripts.script_set(store, character.id, card_from_dict(scripted), "U", revision="r-test")
    assert len(reads) == 2
