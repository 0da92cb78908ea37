"""Group chats: strategies (SillyTavern's group-chats.js), turns, join modes, files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pytavern.engine import Engine
from pytavern.engine.group_activation import (
    LIST,
    MANUAL,
    NATURAL,
    POOLED,
    Member,
    SpokenLine,
    activate,
    swipe_speaker,
)
from pytavern.engine.group_cards import GroupSpeaker, join_cards
from pytavern.engine.services import Services
from pytavern.errors import ConfigError, NotFoundError
from pytavern.formats.cards import new_card
from pytavern.formats.chats import parse_chat_jsonl
from pytavern.settings import Settings
from tests.scripted import Script, ScriptBook

A = Member("Alice.png", "Alice", 0.0)
B = Member("Bob.png", "Bob", 0.0)
C = Member("Carol Ann.png", "Carol Ann", 0.0)


def user(text: str) -> SpokenLine:
    return SpokenLine("User", True, None, False, text)


def said(member: Member, text: str = "...") -> SpokenLine:
    return SpokenLine(member.name, False, member.key, False, text)


# --- strategies ------------------------------------------------------------------------------


def test_natural_order_answers_mentions_in_word_order_first() -> None:
    rng = random.Random(1)
    picked = activate(
        NATURAL, [A, B, C], [user("hey carol, and bob")], user_input="hey carol, and bob", rng=rng
    )
    assert [m.name for m in picked] == ["Carol Ann", "Bob"]


def test_natural_order_rolls_talkativeness_and_falls_back_to_one_chatty_member() -> None:
    loud = Member("Loud.png", "Loud", 1.0)
    quiet = Member("Quiet.png", "Quiet", 0.0)
    for seed in range(5):
        picked = activate(
            NATURAL, [quiet, loud], [user("hi")], user_input="hi", rng=random.Random(seed)
        )
        assert picked == [loud]
    silent = [Member("S1.png", "S1", 0.0), Member("S2.png", "S2", 0.0)]
    picked = activate(NATURAL, silent, [user("hi")], user_input="hi", rng=random.Random(0))
    assert len(picked) == 1  # nobody rolled: one random member answers anyway


def test_natural_order_bans_the_last_speaker_without_user_input() -> None:
    loud_a = Member("A.png", "A", 1.0)
    loud_b = Member("B.png", "B", 1.0)
    history = [user("hi"), said(loud_a)]
    picked = activate(NATURAL, [loud_a, loud_b], history, user_input=None, rng=random.Random(0))
    assert picked == [loud_b]
    again = activate(
        NATURAL,
        [loud_a, loud_b],
        history,
        user_input=None,
        rng=random.Random(0),
        allow_self_responses=True,
    )
    assert {m.name for m in again} == {"A", "B"}


def test_list_order_is_every_enabled_member_in_order() -> None:
    muted_b = Member("Bob.png", "Bob", 0.0, muted=True)
    picked = activate(LIST, [C, muted_b, A], [user("hi")], user_input="hi", rng=random.Random(0))
    assert [m.name for m in picked] == ["Carol Ann", "Alice"]


def test_manual_order_waits_for_the_user_to_pick() -> None:
    assert activate(MANUAL, [A, B], [user("hi")], user_input="hi", rng=random.Random(0)) == []
    auto = activate(MANUAL, [A, B], [user("hi"), said(A)], user_input=None, rng=random.Random(0))
    assert len(auto) == 1


def test_pooled_order_prefers_members_who_have_not_spoken_since_the_user() -> None:
    history = [user("hi"), said(A), said(C)]
    for seed in range(5):
        assert activate(POOLED, [A, B, C], history, user_input=None, rng=random.Random(seed)) == [B]
    everyone = [user("hi"), said(A), said(B), said(C)]
    for seed in range(5):
        picked = activate(POOLED, [A, B, C], everyone, user_input=None, rng=random.Random(seed))
        assert len(picked) == 1 and picked[0] != C  # not the last speaker
    fresh = activate(
        POOLED, [A, B], [user("x"), said(A), user("y")], user_input="y", rng=random.Random(3)
    )
    assert len(fresh) == 1


def test_swipe_goes_to_the_member_who_wrote_the_last_reply() -> None:
    assert swipe_speaker([A, B], [user("x"), said(B)]) == B
    assert swipe_speaker([A, B], [user("x"), SpokenLine("Alice", False)]) == A
    assert swipe_speaker([A, B], [user("x")]) is None


# --- join modes --------------------------------------------------------------------------------


def test_join_cards_wraps_each_member_field() -> None:
    alice = new_card("Alice", description="{{char}} reads.", scenario="A library.")
    bob = new_card("Bob", description="{{char}} cooks.", personality="calm")
    group = GroupSpeaker(1, (1, 2), "[<FIELDNAME> of {{char}}]", "[end]")
    card = join_cards(alice, [alice, bob], group)
    assert card.name == "Alice"
    assert card.description == (
        "[Description of Alice]\nAlice reads.\n[end]\n[Description of Bob]\nBob cooks.\n[end]"
    )
    assert card.personality == "[Personality of Bob]\ncalm\n[end]"
    assert alice.description == "{{char}} reads."  # the stored card is untouched
    plain = join_cards(alice, [alice, bob], GroupSpeaker(1, (1, 2), scenario_override="Night."))
    assert plain.description == "Alice reads.\nBob cooks."
    assert plain.scenario == "Night."


# --- turns over the store ----------------------------------------------------------------------


@pytest.fixture
async def services(data_dir: Path, scripted: ScriptBook) -> Services:
    engine = Engine.open(Settings(data_dir=data_dir))
    engine.store.save_connection(name="s", api="scripted")
    engine.store.set_default_connection("s")
    engine.store.add_character(
        new_card("Bob", description="Bob is a cook.", first_mes="Soup's on.").raw
    )
    return Services(engine)


def _text(scripted: ScriptBook) -> str:
    return "\n".join(str(m.content) for m in scripted.requests[-1].messages)


def _default_name(services: Services) -> str:
    return next(c.name for c in services.characters.all() if c.name != "Bob")


async def test_a_list_group_gets_a_reply_from_every_member(
    services: Services, scripted: ScriptBook
) -> None:
    first = _default_name(services)
    group = services.groups.create("Party", [first, "Bob"], strategy="list")
    assert [m.name for m in group.members] == [first, "Bob"]
    greetings = services.engine.store.history(group.chat_id or 0)
    assert [m.name for m in greetings] == [first, "Bob"]
    scripted.scripts += [Script(["from one"]), Script(["from Bob"])]
    turn = await services.groups.send("Party", "Hello all")
    assert [(r.speaker, r.result.reply) for r in turn.replies] == [
        (first, "from one"),
        ("Bob", "from Bob"),
    ]
    history = services.engine.store.history(group.chat_id or 0)
    assert [(m.role, m.name, m.text) for m in history[-3:]] == [
        ("user", "User", "Hello all"),
        ("assistant", first, "from one"),
        ("assistant", "Bob", "from Bob"),
    ]
    # Bob's turn was prompted as Bob, and saw the first reply
    prompt = scripted.requests[-1].messages
    assert "Bob is a cook." in _text(scripted)
    assert any(m.content == "from one" for m in prompt)
    # {{charIfNotGroup}} of the default main prompt names the whole group
    assert f"chat between {first}, Bob and User." in _text(scripted)


async def test_muted_members_are_skipped_and_manual_waits(
    services: Services, scripted: ScriptBook
) -> None:
    first = _default_name(services)
    services.groups.create("Party", [first, "Bob"], strategy="list")
    services.groups.update("Party", mute=["Bob"])
    scripted.scripts.append(Script(["only me"]))
    turn = await services.groups.send("Party", "hi")
    assert [r.speaker for r in turn.replies] == [first]
    services.groups.update("Party", strategy="manual", unmute=["Bob"])
    turn = await services.groups.send("Party", "anyone?")
    assert turn.replies == []
    chat_id = services.groups.get("Party").chat_id or 0
    assert services.engine.store.history(chat_id)[-1].text == "anyone?"
    scripted.scripts.append(Script(["Bob here"]))
    turn = await services.groups.trigger("Party", "Bob")
    assert [(r.speaker, r.result.reply) for r in turn.replies] == [("Bob", "Bob here")]
    scripted.scripts.append(Script(["Bob again"]))
    redo = await services.groups.redo("Party", "swipe")
    assert [(r.speaker, r.result.reply) for r in redo.replies] == [("Bob", "Bob again")]


async def test_join_mode_prompts_with_every_members_card(
    services: Services, scripted: ScriptBook
) -> None:
    first = _default_name(services)
    services.groups.create("Party", [first, "Bob"], strategy="list")
    services.groups.update("Party", generation_mode="join", mute=["Bob"])
    scripted.scripts.append(Script(["joined"]))
    await services.groups.send("Party", "hi")
    assert "Bob is a cook." not in _text(scripted)  # muted members are not joined ("join")
    services.groups.update("Party", generation_mode="join-muted")
    scripted.scripts.append(Script(["joined"]))
    await services.groups.send("Party", "hi")
    assert "Bob is a cook." in _text(scripted)


async def test_group_errors_are_clear(services: Services) -> None:
    with pytest.raises(ConfigError):
        services.groups.create("Empty", [])
    with pytest.raises(NotFoundError):
        services.groups.create("Ghosts", ["Nobody"])
    services.groups.create("Party", ["Bob"])
    with pytest.raises(ConfigError, match="exists"):
        services.groups.create("Party", ["Bob"])
    with pytest.raises(ConfigError, match="unknown strategy"):
        services.groups.update("Party", strategy="random")
    with pytest.raises(ConfigError, match="at least one"):
        services.groups.update("Party", remove=["Bob"])


async def test_export_and_import_round_trip_losslessly(
    services: Services, scripted: ScriptBook
) -> None:
    first = _default_name(services)
    services.groups.create("Party", [first, "Bob"], strategy="pooled")
    services.groups.update("Party", mute=["Bob"], join_prefix="<<", allow_self_responses=True)
    scripted.scripts.append(Script(["a reply"]))
    await services.groups.send("Party", "Hello")
    group_json, chat_jsonl = services.groups.export_files("Party")
    assert chat_jsonl is not None
    raw = json.loads(group_json)
    assert raw["activation_strategy"] == 3 and raw["disabled_members"] == ["Bob.png"]
    lines = parse_chat_jsonl(chat_jsonl, "x").messages
    assert [line.raw.get("original_avatar") for line in lines if not line.is_user][-1]
    imported = services.groups.import_files(group_json, "Party.json", chat_jsonl)
    assert imported.name == "Party (2)"
    again_json, again_chat = services.groups.export_files(imported.id)
    assert json.loads(again_json) == {**raw, "name": "Party (2)"}
    assert again_chat == chat_jsonl


async def test_import_refuses_a_group_whose_members_are_missing(services: Services) -> None:
    data = json.dumps({"id": "1", "name": "G", "members": ["Nobody.png"], "chat_id": "c"})
    with pytest.raises(NotFoundError, match="Nobody"):
        services.groups.import_files(data.encode(), "G.json")
    assert services.groups.all() == []


async def test_a_group_chat_is_the_groups_and_outlives_its_first_member(
    services: Services, scripted: ScriptBook
) -> None:
    first = _default_name(services)
    group = services.groups.create("Pair", [first, "Bob"], strategy="list")
    first_id = group.members[0].character_id
    bob_id = group.members[1].character_id
    own = services.chats.start(first_id)
    # a member's own chats leave the group's chat out (opening the character never lands
    # in it); every chat still lists it
    assert [c.id for c in services.chats.all(first_id)] == [own.id]
    assert services.chats.latest(first_id) == services.chats.get(own.id)
    assert group.chat_id in {c.id for c in services.chats.all()}
    scripted.scripts += [Script(["one"]), Script(["two"])]
    await services.groups.send("Pair", "Hello")
    before = [(m.name, m.text) for m in services.chats.history(group.chat_id or 0)]
    services.characters.delete(first_id)  # its own chat goes with it, the group's stays
    chat = services.chats.get(group.chat_id or 0)
    assert chat.character_id == bob_id
    assert [(m.name, m.text) for m in services.chats.history(chat.id)] == before
    with pytest.raises(NotFoundError):
        services.chats.get(own.id)
    # a group left with one member: deleting it takes the chat along, as its own chats
    services.characters.delete(bob_id)
    with pytest.raises(NotFoundError):
        services.chats.get(chat.id)


async def test_a_message_nobody_answers_is_stored_with_the_user_input_scripts(
    services: Services, scripted: ScriptBook
) -> None:
    """A manual group stores the user's message at once: changed by the user-input regex
    scripts, as a message a member answers is."""
    script = {"id": "u1", "scriptName": "Fix", "findRegex": "/teh/g", "replaceString": "the"}
    services.regex.import_bytes(json.dumps(script | {"placement": [1]}).encode())
    first = _default_name(services)
    services.groups.create("Party", [first, "Bob"], strategy="manual")
    turn = await services.groups.send("Party", "teh plan")
    assert turn.replies == []
    chat_id = services.groups.get("Party").chat_id or 0
    assert services.engine.store.history(chat_id)[-1].text == "the plan"
