"""A SillyTavern folder's global regex scripts (settings.json) and quick-reply sets
(QuickReplies/) come in once with import-sillytavern and go out with export-all."""

from __future__ import annotations

import json
from pathlib import Path

from pytavern.formats.cards import new_card, write_card_png
from pytavern.formats.png import solid_png
from tests.engine.test_quick_replies import SET_V2
from tests.engine.test_st_folder import run

SCRIPT = {
    "id": "st-1",
    "scriptName": "Tidy",
    "findRegex": "/x/g",
    "replaceString": "y",
    "placement": [2],
}


def st_folder(root: Path) -> Path:
    user = root / "data" / "default-user"
    (user / "characters").mkdir(parents=True)
    (user / "characters" / "A.png").write_bytes(write_card_png(new_card("A"), solid_png()))
    settings = {"extension_settings": {"regex": [SCRIPT]}}
    (user / "settings.json").write_text(json.dumps(settings))
    (user / "QuickReplies").mkdir()
    (user / "QuickReplies" / "Moves.json").write_text(json.dumps(SET_V2))
    return root


def test_regex_and_quick_replies_import_once_and_export(data_dir: Path, tmp_path: Path) -> None:
    folder = st_folder(tmp_path / "st")
    _, first, _ = run(data_dir, "import-sillytavern", str(folder))
    assert first["imported"]["regex scripts"] == 1
    assert first["imported"]["quick reply sets"] == 1
    _, again, _ = run(data_dir, "import-sillytavern", str(folder))
    assert "regex scripts" not in again["imported"]
    assert again["already_present"]["regex scripts"] == 1
    assert again["already_present"]["quick reply sets"] == 1
    out = tmp_path / "out"
    run(data_dir, "export-all", "--out", str(out))
    settings = json.loads((out / "settings.json").read_text())
    assert settings["extension_settings"]["regex"][0]["id"] == "st-1"
    assert json.loads((out / "QuickReplies" / "Moves.json").read_text()) == SET_V2
