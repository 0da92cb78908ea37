"""Quick replies: SillyTavern sets (v1 and v2) in and out, the safe slash-command subset,
macros, and plain-text buttons as the set says to send them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytavern.engine.quick_replies import Step, parse_script
from pytavern.engine.services import Services
from pytavern.errors import FormatError
from pytavern.formats.quick_replies import read_set, write_set
from pytavern.settings import Settings

SET_V2 = {
    "version": 2,
    "name": "Moves",
    "disableSend": False,
    "placeBeforeInput": False,
    "injectInput": False,
    "color": "transparent",
    "qrList": [
        {
            "id": 1,
            "label": "Wave",
            "title": "",
            "message": "*waves at {{char}}*",
            "isHidden": False,
        },
        {"id": 2, "label": "Go on", "message": "/continue", "isHidden": False},
        {
            "id": 3,
            "label": "Ask",
            "message": "/send {{input}}, {{user}}? \\| ok|/trigger await=true",
        },
        {"id": 4, "label": "Bad", "message": "/run evil"},
        {"id": 5, "label": "Secret", "message": "/swipe", "isHidden": True},
    ],
    "idIndex": 6,
    "customField": [1, 2],
}


@pytest.fixture
def services(data_dir: Path) -> Services:
    return Services.open(Settings(data_dir=data_dir))


def test_safe_subset_parses_and_everything_else_is_refused() -> None:
    assert parse_script("/send hi|/trigger") == [Step("send", "hi"), Step("trigger")]
    assert parse_script("/setinput a \\| b") == [Step("setinput", "a | b")]
    assert parse_script("/impersonate | /swipe | /continue") == [
        Step("impersonate"),
        Step("swipe"),
        Step("continue"),
    ]
    for bad in ("/run x", "/send hi|/js alert(1)", "/send", "/send a | plain"):
        with pytest.raises(FormatError) as caught:
            parse_script(bad)
        assert caught.value.hint


def test_round_trip_keeps_unknown_fields_and_reads_v1() -> None:
    reply_set = read_set(json.dumps(SET_V2).encode())
    assert [r.label for r in reply_set.replies][:2] == ["Wave", "Go on"]
    assert json.loads(write_set(reply_set))["customField"] == [1, 2]
    v1 = {"name": "Old", "quickReplySlots": [{"mes": "hi", "label": "Hi", "enabled": True}]}
    old = read_set(json.dumps(v1).encode())
    assert old.replies[0].message == "hi" and old.to_dict()["version"] == 2
    with pytest.raises(FormatError):
        read_set(b'{"qrList": []}')


def test_plans_with_macros_input_and_send_modes(services: Services) -> None:
    services.quick_replies.import_bytes(json.dumps(SET_V2).encode())
    chat_id = services.chats.start(services.characters.all()[0].id).id
    plan = services.quick_replies.plan
    assert plan(chat_id, "Moves", 1) == [Step("send", "*waves at Wren*"), Step("trigger")]
    assert plan(chat_id, "Moves", 2) == [Step("continue")]
    assert plan(chat_id, "Moves", 3, "typed") == [
        Step("send", "typed, User? | ok"),
        Step("trigger"),
    ]
    with pytest.raises(FormatError):
        plan(chat_id, "Moves", 4)
    quiet = SET_V2 | {"name": "Quiet", "disableSend": True, "injectInput": True}
    services.quick_replies.import_bytes(json.dumps(quiet).encode())
    assert plan(chat_id, "Quiet", 1, "hey") == [Step("setinput", "hey *waves at Wren*")]
    listed = services.quick_replies.all()
    assert [(s["name"], s["active"]) for s in listed] == [("Moves", True), ("Quiet", True)]
    assert [r["label"] for r in listed[0]["replies"]] == ["Wave", "Go on", "Ask", "Bad"]
    assert [bool(r["problem"]) for r in listed[0]["replies"]] == [False, False, False, True]
    assert "/run" in listed[0]["replies"][3]["problem"]
    services.quick_replies.set_active("Quiet", False)
    assert services.quick_replies.all()[1]["active"] is False


def test_send_adds_the_message_without_a_reply(services: Services) -> None:
    chat_id = services.chats.start(services.characters.all()[0].id).id
    added = services.quick_replies.add_user_message(chat_id, "just this")
    history = services.chats.history(chat_id)
    assert [m.role for m in history] == ["assistant", "user"] and added.text == "just this"
