"""The command line over the scripted provider: send, chat, connections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.invoke import Run, with_scripted
from tests.scripted import Script, ScriptBook, cut_error

SECRET = "sk-test-abcdefgh12345678WXYZ"


@pytest.fixture
def run(data_dir: Path, scripted: ScriptBook) -> Run:
    return with_scripted(data_dir)


def test_send_json_then_continue_the_same_chat(run, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    scripted.scripts += [Script(["I am ", "Wren."]), Script(["Yes."])]
    code, out, _ = run("send", "Hello, who are you?", "--json")
    assert code == 0
    first = json.loads(out)
    assert first["reply"] == "I am Wren."
    assert first["finish_reason"] == "stop"
    assert first["connection"] == "s" and first["model"] == "scripted-1"
    assert first["usage"] == {"input_tokens": 10, "output_tokens": 2}
    code, out, _ = run("send", "Really?", "--chat", str(first["chat_id"]), "--json")
    second = json.loads(out)
    assert second["chat_id"] == first["chat_id"]
    contents = [m.content for m in scripted.requests[-1].messages]
    assert contents[-3:] == ["Hello, who are you?", "I am Wren.", "Really?"]


def test_send_streams_text_to_stdout(run, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    scripted.scripts.append(Script(["a", "b"]))
    code, out, _ = run("send", "hi", "--new")
    assert code == 0 and out == "ab\n"


def test_send_error_is_one_line_and_keeps_partial(run, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    scripted.scripts.append(Script(["half"], error=cut_error()))
    code, out, _err = run("send", "hi", "--json")
    assert code == 1
    payload = json.loads(out)
    assert payload["reply"] == "half" and payload["finish_reason"] == "error"
    assert "cut" in payload["error"]["message"]
    code, out, _err = run("send", "again")
    assert code == 0


def test_unknown_chat_and_character_are_clear_errors(run) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run("send", "hi", "--chat", "999")
    assert (
        code == 1
        and err.strip() == "error: no chat with id 999. List chats with `pytavern chats list`"
    )
    code, _out, err = run("send", "hi", "--character", "Nobody")
    assert code == 1 and "Known characters: Wren" in err


def test_connections_key_is_never_shown(run, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(
        "connections", "add", "oa", "--api", "scripted", "--key", "-", "--json", input=SECRET + "\n"
    )
    assert code == 0, err
    assert SECRET not in out and json.loads(out)["key"] == {
        "set": True,
        "last4": "WXYZ",
        "source": "stored",
    }
    code, out, _ = run("connections", "list", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["oa"]["key"]["last4"] == "WXYZ" and rows["s"]["is_default"] is True
    assert SECRET not in out
    secrets_file = data_dir / "secrets.json"
    assert (secrets_file.stat().st_mode & 0o777) == 0o600
    assert ((data_dir / "secrets.key").stat().st_mode & 0o777) == 0o600
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
            assert SECRET[-12:].encode() not in path.read_bytes(), path


def test_key_on_the_command_line_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run("connections", "add", "x", "--api", "scripted", "--key", "sk-abc")
    assert code == 1 and "standard input" in err


def test_connections_test_models_default_remove(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("connections", "test", "s", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    code, out, _ = run("connections", "models", "s", "--json")
    assert json.loads(out)[0]["id"] == "scripted-1"
    code, out, _err = run("connections", "test", "missing")
    assert code == 1 and "no connection named 'missing'" in out
    assert run("connections", "default", "local")[0] == 0
    assert run("connections", "remove", "s")[0] == 0
    code, out, _ = run("connections", "list", "--json")
    assert [r["name"] for r in json.loads(out)] == ["local"]


def test_unknown_api_type_lists_choices(run) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run("connections", "add", "x", "--api", "nonsense")
    assert code == 1 and "unknown API type 'nonsense'" in err and "local" in err


def test_interactive_chat_commands(run, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    scripted.scripts += [Script(["one"]), Script(["two"]), Script([" more"])]
    code, out, err = run("chat", input="Hello\n/swipe\n/back\n/continue\n/help\n/quit\n")
    assert code == 0, err
    assert "Wren: one" in out and "Wren: two" in out
    assert "[swipe 1/2] one" in out
    assert "Wren: one more" in out
    assert "/regen" in out


def test_interactive_chat_summarize_and_summary(run, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    scripted.scripts += [Script(["Hi."]), Script(["They said hi."])]
    code, out, err = run("chat", input="Hello\n/summary\n/summarize\n/summary\n/quit\n")
    assert code == 0, err
    assert "[summary] (none yet" in out
    assert "[summary] They said hi." in out
    assert out.count("They said hi.") == 2  # streamed, then shown


def test_interactive_chat_updates_the_summary_every_n_messages(run, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    assert run("settings", "set", "summary.every=3")[0] == 0
    scripted.scripts += [Script(["Hi."]), Script(["They said hi."]), Script(["Again."])]
    code, out, err = run("chat", input="Hello\n/summary\nMore\n/quit\n")
    assert code == 0, err
    assert "[updating the chat's summary]" in err and err.count("[summary updated]") == 1
    assert "[summary] They said hi." in out  # greeting, message, reply: 3
    assert len(scripted.requests) == 3  # 5 - 3 < 3 after "More": no second summary


def test_send_says_when_the_chat_is_due_a_summary(run, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    assert run("settings", "set", "summary.every=3")[0] == 0
    scripted.scripts += [Script(["Hi."])]
    code, out, err = run("send", "Hello", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["summary_due"] is True
    code, _out, err = run("send", "Hello again", "--chat", str(answer["chat_id"]))
    assert code == 0 and f"pytavern chats summarize {answer['chat_id']}" in err
