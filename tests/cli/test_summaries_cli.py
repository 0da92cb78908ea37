"""``pytavern chats summarize | summary``: making, showing and editing a chat's summary."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pytavern.cli import cli
from tests.scripted import Script, ScriptBook, cut_error


def test_summarize_show_set_and_clear(data_dir: Path, scripted: ScriptBook) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["--data-dir", str(data_dir), *args])
        return result.exit_code, result.stdout, result.stderr

    assert run("connections", "add", "s", "--api", "scripted", "--default")[0] == 0
    scripted.scripts += [Script(["Hello."]), Script(["They ", "met."])]
    code, out, err = run("send", "Hi", "--json")
    assert code == 0, err
    chat_id = str(json.loads(out)["chat_id"])
    assert run("chats", "summary", chat_id)[1].strip() == "(no summary)"
    code, out, err = run("chats", "summarize", chat_id)
    assert code == 0, err
    assert out.strip() == "They met."
    assert "Summarize the most important facts" in scripted.requests[-1].messages[-1].content
    assert run("chats", "summary", chat_id)[1].strip() == "They met."
    scripted.scripts.append(Script(["Hal"], error=cut_error()))
    code, out, err = run("chats", "summarize", chat_id, "--json")
    assert code == 1
    answer = json.loads(out)
    assert answer["saved"] is False and answer["summary"] == "They met."
    assert answer["error"]["hint"]
    code, out, _ = run("chats", "summary", chat_id, "--set", "By hand.", "--json")
    assert code == 0 and json.loads(out)["summary"] == "By hand."
    assert run("chats", "summary", chat_id, "--clear")[1].strip() == "(no summary)"
    code, _out, err = run("chats", "summary", chat_id, "--set", "x", "--clear")
    assert code == 2 and "not both" in err
