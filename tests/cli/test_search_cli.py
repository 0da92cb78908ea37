"""``pytavern search TEXT [--character] [--json]`` and ``GET /api/search``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_library_cli import run
from tests.formats.test_chats_worldinfo_presets import CHAT


def test_search_finds_an_imported_message(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "chat.jsonl"
    source.write_text(CHAT)
    assert run(data_dir, "chats", "import", str(source), "--character", "Wren")[0] == 0
    word = json.loads(CHAT.splitlines()[-1])["mes"].split()[0]
    code, out, err = run(data_dir, "search", word, "--json")
    assert code == 0, err
    hits = json.loads(out)
    assert hits and hits[0]["character_name"] == "Wren"
    assert word.lower() in hits[0]["snippet"].lower()
    code, out, _ = run(data_dir, "search", word, "--character", "Wren")
    assert code == 0 and out.startswith(f"chat {hits[0]['chat_id']} #")
    assert run(data_dir, "search", "zzzqqq")[1].strip() == "no messages found"
    code, _, err = run(data_dir, "search", word, "--character", "Nobody")
    assert code == 1 and "Nobody" in err
