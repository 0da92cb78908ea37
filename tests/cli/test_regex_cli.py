"""``pytavern regex import | list | export | allow``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pytavern.cli import cli
from tests.cli.test_library_cli import run

SCRIPTS = [
    {
        "id": "g1",
        "scriptName": "Tidy",
        "findRegex": "/colour/g",
        "replaceString": "color",
        "placement": [2],
    },
    {
        "id": "g2",
        "scriptName": "Shout",
        "findRegex": "/!/g",
        "replaceString": "!!",
        "placement": [1, 2],
        "disabled": True,
    },
]


def test_import_list_export_round_trip(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "regex.json"
    source.write_text(json.dumps(SCRIPTS))
    code, out, err = run(data_dir, "regex", "import", str(source))
    assert code == 0, err
    assert "imported 'Tidy' (g1)" in out
    code, out, _ = run(data_dir, "regex", "list", "--json")
    assert [(s["id"], s["scope"]) for s in json.loads(out)] == [("g1", "global"), ("g2", "global")]
    code, out, _ = run(data_dir, "regex", "list")
    assert "global    off Shout" in out
    target = tmp_path / "out.json"
    assert run(data_dir, "regex", "export", "--out", str(target))[0] == 0
    assert [s["findRegex"] for s in json.loads(target.read_text())] == ["/colour/g", "/!/g"]


def test_character_scope_and_allow(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "one.json"
    source.write_text(json.dumps(SCRIPTS[0]))
    assert run(data_dir, "regex", "import", str(source), "--character", "Wren")[0] == 0
    _code, out, _ = run(data_dir, "regex", "list", "--character", "Wren", "--json")
    assert [(s["scope"], s["allowed"]) for s in json.loads(out)] == [("character", True)]
    assert run(data_dir, "regex", "allow", "Wren", "--off")[0] == 0
    _code, out, _ = run(data_dir, "regex", "list", "--character", "Wren")
    assert out.startswith("character off Tidy")


def test_broken_file_is_refused_with_a_hint(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text("[1]")
    code, _, err = run(data_dir, "regex", "import", str(source))
    assert code == 1 and "not a SillyTavern regex script" in err


def test_an_imported_ai_output_script_changes_a_new_stored_reply(
    data_dir: Path, tmp_path: Path
) -> None:
    """The issue's acceptance, end to end: a SillyTavern regex file imported with the CLI,
    then ``pytavern send`` against the OpenAI fake; the stored reply has the replacement."""
    from tests.fakes import openai_fake
    from tests.providers.chat_helpers import fake

    script = {
        "id": "e2e",
        "scriptName": "No echo",
        "findRegex": "/^Echo: (.*)$/s",
        "replaceString": "[$1]",
        "trimStrings": ["!"],
        "placement": [2],
        "disabled": False,
        "markdownOnly": False,
        "promptOnly": False,
        "runOnEdit": True,
        "substituteRegex": 0,
        "minDepth": None,
        "maxDepth": None,
    }
    source = tmp_path / "regex-No_echo.json"
    source.write_text(json.dumps(script))
    assert run(data_dir, "regex", "import", str(source))[0] == 0
    with fake(openai_fake.create_app) as (url, _plan):
        result = CliRunner().invoke(
            cli,
            ["--data-dir", str(data_dir), "connections", "add", "up", "--api", "custom",
             "--url", url, "--model", "gpt-4o-mini", "--default", "--key", "-"],
            input=openai_fake.DEFAULT_KEY + "\n",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        code, out, err = run(data_dir, "send", "hello there!", "--json")
    assert code == 0, err
    reply = json.loads(out)
    assert reply["reply"] == "[hello there]"
    code, out, _ = run(data_dir, "chats", "list", "--json")
    chat_id = json.loads(out)[0]["id"]
    exported = tmp_path / "chat.jsonl"
    assert run(data_dir, "chats", "export", str(chat_id), "--out", str(exported))[0] == 0
    last = json.loads(exported.read_text().splitlines()[-1])
    assert last["mes"] == "[hello there]"
