"""``pytavern characters | chats | lorebooks``: import, export, list; broken files refused."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pytavern.cli import cli
from pytavern.formats.cards import new_card, read_card, write_card_png
from pytavern.formats.png import solid_png
from tests.formats.test_charx import build_charx, icon, v3_card
from tests.formats.test_chats_worldinfo_presets import CHAT, WORLD


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def test_png_card_round_trip(data_dir: Path, tmp_path: Path) -> None:
    card = new_card(
        "Sera",
        description="A healer.",
        first_mes="Hello {{user}}.",
        extensions={"custom_tool": {"x": [1, 2]}},
        extra_root={"unknown_root": True},
    )
    source = tmp_path / "sera.png"
    source.write_bytes(write_card_png(card))
    code, out, err = run(data_dir, "characters", "import", str(source), "--json")
    assert code == 0, err
    assert json.loads(out)["name"] == "Sera"
    for suffix in ("png", "json"):
        target = tmp_path / f"out.{suffix}"
        assert run(data_dir, "characters", "export", "Sera", "--out", str(target))[0] == 0
        again = read_card(target.read_bytes(), target.name)
        assert again.data == read_card(source.read_bytes(), source.name).data
    code, out, _ = run(data_dir, "characters", "list", "--json")
    assert {row["name"] for row in json.loads(out)} == {"Sera", "Wren"}


def test_charx_card_import_keeps_its_avatar(data_dir: Path, tmp_path: Path) -> None:
    avatar = solid_png(6, 6, (1, 2, 3))
    source = tmp_path / "lyra.charx"
    source.write_bytes(
        build_charx(v3_card(assets=[icon("main", "a/main.png")]), {"a/main.png": avatar})
    )
    code, out, err = run(data_dir, "characters", "import", str(source), "--json")
    assert code == 0, err
    assert json.loads(out)["name"] == "Lyra"
    target = tmp_path / "out.png"
    assert run(data_dir, "characters", "export", "Lyra", "--out", str(target))[0] == 0
    assert read_card(target.read_bytes(), target.name).name == "Lyra"
    assert target.read_bytes().startswith(avatar[:33])  # the avatar's signature and IHDR
    broken = tmp_path / "broken.charx"
    broken.write_bytes(build_charx(None))
    code, _, err = run(data_dir, "characters", "import", str(broken))
    assert code != 0 and "broken.charx: CharX archive has no card.json" in err


def test_chat_round_trip_is_byte_identical(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "chat.jsonl"
    source.write_text(CHAT, encoding="utf-8")
    code, out, err = run(data_dir, "chats", "import", str(source), "--character", "Wren", "--json")
    assert code == 0, err
    chat_id = json.loads(out)["id"]
    assert json.loads(out)["messages"] == 2
    target = tmp_path / "back.jsonl"
    assert run(data_dir, "chats", "export", str(chat_id), "--out", str(target))[0] == 0
    assert target.read_bytes() == CHAT.encode()
    code, out, _ = run(data_dir, "chats", "list", "--character", "Wren", "--json")
    assert json.loads(out)[0]["id"] == chat_id


def test_lorebook_round_trip(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "Eldoria.json"
    source.write_text(json.dumps(WORLD), encoding="utf-8")
    code, out, err = run(data_dir, "lorebooks", "import", str(source), "--json")
    assert code == 0, err
    assert json.loads(out)["name"] == "Eldoria"
    target = tmp_path / "back.json"
    assert run(data_dir, "lorebooks", "export", "Eldoria", "--out", str(target))[0] == 0
    assert json.loads(target.read_text()) == WORLD
    code, out, _ = run(data_dir, "lorebooks", "list", "--json")
    assert json.loads(out)[0]["name"] == "Eldoria"


def test_broken_files_are_refused_and_nothing_stays(data_dir: Path, tmp_path: Path) -> None:
    png = tmp_path / "broken.png"
    png.write_bytes(write_card_png(new_card("X"))[:60])
    code, _out, err = run(data_dir, "characters", "import", str(png))
    assert code == 1 and "broken.png" in err and err.count("\n") == 1
    chat = tmp_path / "bad.jsonl"
    chat.write_text(CHAT + "\n{not json", encoding="utf-8")
    code, _out, err = run(data_dir, "chats", "import", str(chat), "--character", "Wren")
    assert code == 1 and "bad.jsonl" in err
    nameless = tmp_path / "nameless.json"
    nameless.write_text(json.dumps({"spec": "chara_card_v2", "data": {"description": "x"}}))
    code, _out, err = run(data_dir, "characters", "import", str(nameless))
    assert code == 1 and "nameless.json" in err
    code, out, _ = run(data_dir, "characters", "list", "--json")
    assert [row["name"] for row in json.loads(out)] == ["Wren"]
    code, out, _ = run(data_dir, "chats", "list", "--json")
    assert json.loads(out) == []
