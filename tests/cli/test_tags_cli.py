"""Tags on characters: ``characters tag``, ``characters list --tag``, ``GET /api/tags``;
the tags live in the card, so they go out with an export."""

from __future__ import annotations

import json
from pathlib import Path

from pytavern.formats.cards import new_card, read_card
from tests.cli.test_library_cli import run


def test_tag_filter_and_export(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "sera.json"
    source.write_text(json.dumps(new_card("Sera", tags=["Fantasy", "healer"]).raw))
    assert run(data_dir, "characters", "import", str(source))[0] == 0
    code, out, err = run(
        data_dir, "characters", "tag", "Wren", "--add", "FANTASY", "--add", "Guide"
    )
    assert code == 0, err
    assert out.strip() == "Wren: pytavern, fantasy, tavern, friendly, Guide"  # no duplicate
    code, out, _ = run(data_dir, "characters", "list", "--tag", "GUIDE", "--json")
    assert [row["name"] for row in json.loads(out)] == ["Wren"]
    code, out, _ = run(data_dir, "characters", "list", "--tag", "fantasy", "--json")
    assert sorted(row["name"] for row in json.loads(out)) == ["Sera", "Wren"]
    code, out, _ = run(data_dir, "characters", "list", "--tag", "healer", "--json")
    assert [row["name"] for row in json.loads(out)] == ["Sera"]
    code, out, _ = run(data_dir, "characters", "tag", "Wren", "--remove", "FANTASY", "--json")
    assert json.loads(out)["tags"] == ["pytavern", "tavern", "friendly", "Guide"]
    target = tmp_path / "wren.json"
    assert run(data_dir, "characters", "export", "Wren", "--out", str(target))[0] == 0
    assert read_card(target.read_bytes(), target.name).tags[-1] == "Guide"
