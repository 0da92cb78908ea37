"""``pytavern quick-replies import | list | export``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_library_cli import run
from tests.engine.test_quick_replies import SET_V2


def test_import_list_export(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "moves.json"
    source.write_text(json.dumps(SET_V2))
    code, out, err = run(data_dir, "quick-replies", "import", str(source))
    assert code == 0, err
    assert out.strip() == "imported 'Moves' (5 quick replies)"
    code, out, _ = run(data_dir, "quick-replies", "list")
    assert out.strip() == "Moves (shown): Wave, Go on, Ask, Bad"
    target = tmp_path / "out.json"
    assert run(data_dir, "quick-replies", "export", "Moves", "--out", str(target))[0] == 0
    assert json.loads(target.read_text()) == SET_V2
    code, _, err = run(data_dir, "quick-replies", "export", "Nope", "--out", str(target))
    assert code == 1 and "Nope" in err
