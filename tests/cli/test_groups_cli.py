"""``pytavern groups`` and ``send --group`` (issue 16's acceptance for group chats)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.invoke import invoker
from tests.scripted import Script, ScriptBook

CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Brom",
        "description": "{{char}} is a blacksmith.",
        "personality": "gruff",
        "scenario": "",
        "first_mes": "*hammers* What?",
        "mes_example": "",
        "extensions": {"talkativeness": "0.9"},
    },
}


@pytest.fixture
def run(data_dir: Path, scripted: ScriptBook, tmp_path: Path):  # type: ignore[no-untyped-def]
    invoke = invoker(data_dir)
    assert invoke("connections", "add", "s", "--api", "scripted", "--default")[0] == 0
    card = tmp_path / "Brom.json"
    card.write_text(json.dumps(CARD))
    code, _out, err = invoke("characters", "import", str(card))
    assert code == 0, err
    return invoke


def test_send_group_gets_replies_from_the_members_the_strategy_picks(
    run, scripted: ScriptBook
) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(
        "groups", "create", "Forge", "--member", "Wren", "--member", "Brom", "--strategy", "list"
    )
    assert code == 0, err
    assert "Wren, Brom" in out
    scripted.scripts += [Script(["Hi from Wren."]), Script(["Hrm."])]
    code, out, err = run("send", "Hello both", "--group", "Forge", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert [(r["speaker"], r["text"]) for r in payload["replies"]] == [
        ("Wren", "Hi from Wren."),
        ("Brom", "Hrm."),
    ]
    assert payload["reply"] == "Hrm." and payload["error"] is None
    scripted.scripts += [Script(["Wren ", "streams."]), Script(["Brom ", "too."])]
    code, out, err = run("send", "Again", "--group", "Forge")  # each reply as it arrives
    assert code == 0, err
    assert out.splitlines()[-2:] == ["Wren: Wren streams.", "Brom: Brom too."]
    # natural order: a mention picks the member (Wren's talkativeness is the default 0.5,
    # so only Brom is certain to answer unless named)
    run("groups", "edit", "Forge", "--strategy", "natural")
    scripted.scripts += [Script(["Wren here."]), Script(["Brom too."])]
    code, out, _ = run("send", "Wren, what do you think?", "--group", "Forge", "--json")
    speakers = [r["speaker"] for r in json.loads(out)["replies"]]
    assert speakers[0] == "Wren"
    # manual order: nobody answers until asked
    run("groups", "edit", "Forge", "--strategy", "manual")
    code, out, _ = run("send", "quiet now", "--group", "Forge")
    assert code == 0 and "nobody answered" in out
    code, out, _ = run("groups", "list", "--json")
    assert json.loads(out)[0]["activation_strategy"] == "manual"


def test_group_exports_and_reimports_losslessly(run, scripted: ScriptBook, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("groups", "create", "Forge", "--member", "Wren", "--member", "Brom", "--strategy", "pooled")
    run("groups", "edit", "Forge", "--mute", "Wren", "--cards", "join")
    scripted.scripts.append(Script(["Only Brom."]))
    code, out, _ = run("send", "Anyone?", "--group", "Forge", "--json")
    assert [r["speaker"] for r in json.loads(out)["replies"]] == ["Brom"]
    first = tmp_path / "one" / "groups" / "forge.json"
    code, out, err = run("groups", "export", "Forge", "--out", str(first))
    assert code == 0, err
    chat = first.with_suffix(".jsonl")
    assert chat.is_file()
    # into a new data folder, with the same characters, and out again: the same bytes
    other = invoker(tmp_path / "other-data")
    card = tmp_path / "Brom.json"
    assert other("characters", "import", str(card))[0] == 0
    code, out, err = other("groups", "import", str(first), "--json")
    assert code == 0, err
    imported = json.loads(out)
    assert [m["name"] for m in imported["members"]] == ["Wren", "Brom"]
    assert [m["muted"] for m in imported["members"]] == [True, False]
    second = tmp_path / "two" / "forge.json"
    assert other("groups", "export", "Forge", "--out", str(second))[0] == 0
    assert second.read_bytes() == first.read_bytes()
    assert second.with_suffix(".jsonl").read_bytes() == chat.read_bytes()


def test_group_errors_are_clear(run) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run("send", "hi", "--group", "Nope")
    assert code == 1 and "no group named 'Nope'" in err and "groups list" in err
    code, _out, err = run("groups", "create", "X", "--member", "Ghost")
    assert code == 1 and "Ghost" in err
    code, _out, err = run("send", "hi", "--group", "X", "--new")
    assert code == 2 and "--group goes alone" in err
