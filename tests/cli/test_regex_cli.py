"""``pytavern regex import | list | export | allow``."""

from __future__ import annotations

import json
from pathlib import Path

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
