"""A whole SillyTavern folder: import (idempotent, dry run, broken files) and export-all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pytavern.cli import cli
from pytavern.formats.cards import new_card, write_card_png
from pytavern.formats.png import solid_png
from pytavern.settings import Settings
from pytavern.store import Store

CARDS = 200
CHATS_PER_CARD = 10


def chat_lines(card: int, chat: int) -> bytes:
    header = {
        "user_name": "You",
        "character_name": f"Char {card}",
        "create_date": "2024-01-01@10h00m00s",
        "chat_metadata": {"note_prompt": f"note {chat}"},
    }
    lines: list[dict[str, Any]] = [header]
    for turn in range(2):
        lines.append({"name": "You", "is_user": True, "send_date": "x", "mes": f"hi {turn}"})
        reply = f"reply {card}/{chat}/{turn}"
        lines.append(
            {
                "name": f"Char {card}",
                "is_user": False,
                "send_date": "x",
                "mes": reply,
                "swipe_id": 0,
                "swipes": [reply, "other"],
                "extra": {"api": "openai"},
            }
        )
    return "\n".join(json.dumps(line) for line in lines).encode()


def write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


WORLD = {"entries": {"0": {"uid": 0, "key": ["castle"], "content": "A castle.", "comment": "c"}}}
INSTRUCT = {"name": "Mine", "input_sequence": "### User:", "output_sequence": "### Reply:"}
CONTEXT = {"name": "Ctx", "story_string": "{{description}}"}
SAMPLER = {"temp": 0.8, "top_p": 0.9}


def make_folder(root: Path) -> Path:
    """A SillyTavern data/default-user folder with 200 cards and 2,000 chats, and trouble."""
    user = root / "data" / "default-user"
    avatar = solid_png()
    for card in range(CARDS):
        name = f"Char {card}"
        png = write_card_png(new_card(name, description=f"Card number {card}."), avatar)
        write(user / "characters" / f"{name}.png", png)
        for chat in range(CHATS_PER_CARD):
            write(user / "chats" / name / f"{name} - chat {chat}.jsonl", chat_lines(card, chat))
    write(user / "chats" / "Char 0" / "broken.jsonl", b'{"user_name": "You"}\n{"mes": ')
    write(user / "characters" / "Broken.png", b"\x89PNG\r\n\x1a\nnot really")
    write(user / "chats" / "Broken" / "lost.jsonl", chat_lines(0, 0))
    write(user / "chats" / "Nobody" / "orphan.jsonl", chat_lines(1, 1))
    write(user / "group chats" / "1700000000.jsonl", chat_lines(2, 2))
    write(user / "groups" / "1700000000.json", json.dumps({"id": "1700000000", "members": []}))
    write(user / "worlds" / "Castle.json", json.dumps(WORLD))
    write(user / "worlds" / "Bad.json", "{not json")
    write(user / "instruct" / "Mine.json", json.dumps(INSTRUCT))
    write(user / "context" / "Ctx.json", json.dumps(CONTEXT))
    write(user / "TextGen Settings" / "Default.json", json.dumps(SAMPLER))
    write(user / "KoboldAI Settings" / "Default.json", json.dumps({**SAMPLER, "temp": 0.5}))
    write(user / "User Avatars" / "me.png", avatar)
    personas = {
        "personas": {"me.png": "Me", "alt.png": "Alt"},
        "persona_descriptions": {
            "me.png": {"description": "I am me.", "position": 4, "depth": 3, "role": 1},
            "alt.png": {"description": "Another.", "position": 0},
        },
        "default_persona": "me.png",
    }
    write(user / "settings.json", json.dumps({"power_user": personas, "other": 1}))
    return user


def run(data_dir: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args, "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.exit_code, json.loads(result.stdout), result.stderr


def totals(data_dir: Path) -> dict[str, int]:
    store = Store.open_sqlite(Settings(data_dir=data_dir).database_path)
    try:
        chats = store.list_chats()
        return {
            "characters": len(store.list_characters()),
            "chats": len(chats),
            "messages": sum(c.message_count for c in chats),
            "lorebooks": len(store.list_lorebooks()),
            "presets": len(store.list_presets()),
            "personas": len(store.list_personas()),
        }
    finally:
        store.close()


EXPECTED = {"characters": 200, "chats": 2000, "lorebooks": 1, "presets": 4, "personas": 2}


def test_a_whole_folder_imports_once_and_exports_to_the_same_counts(
    data_dir: Path, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path / "st")
    _, dry, _ = run(data_dir, "import-sillytavern", str(tmp_path / "st"), "--dry-run")
    assert dry["imported"] == EXPECTED
    assert totals(data_dir)["characters"] == 1  # the dry run stored nothing

    _, first, progress = run(data_dir, "import-sillytavern", str(tmp_path / "st"))
    assert first["imported"] == EXPECTED
    assert "importing" in progress and f"/{CARDS * (CHATS_PER_CARD + 1) + 14}" in progress
    broken = {item["file"] for item in first["broken"]}
    assert broken == {
        "characters/Broken.png",
        "chats/Char 0/broken.jsonl",
        "worlds/Bad.json",
        "groups/1700000000.json",  # a group of no members
    }
    skipped = {item["file"]: item["reason"] for item in first["skipped"]}
    assert skipped["group chats/1700000000.jsonl"] == "no group in groups/ has this chat"
    assert set(skipped) == {
        "group chats/1700000000.jsonl",
        "chats/Broken/lost.jsonl",
        "chats/Nobody/orphan.jsonl",
    }
    after_first = totals(data_dir)
    assert after_first["characters"] == CARDS + 1 and after_first["chats"] == 2000
    assert after_first["messages"] == 2000 * 4

    _, second, _ = run(data_dir, "import-sillytavern", str(folder))
    assert second["imported"] == {}
    assert second["already_present"] == EXPECTED
    assert totals(data_dir) == after_first
    _, health, _ = run(data_dir, "doctor")
    assert health["sound"] and health["findings"] == []

    out = tmp_path / "exported"
    _, exported, _ = run(data_dir, "export-all", "--out", str(out))
    assert out.stat().st_mode & 0o077 == 0
    assert exported["characters"] == CARDS + 1 and exported["chats"] == 2000
    fresh = tmp_path / "fresh"
    _, again, _ = run(fresh, "import-sillytavern", str(out))
    assert again["broken"] == [] and again["skipped"] == []
    assert again["imported"] == EXPECTED  # the default character is already there
    assert totals(fresh) == after_first


def test_the_old_public_layout_and_personas(data_dir: Path, tmp_path: Path) -> None:
    public = tmp_path / "SillyTavern" / "public"
    write(public / "characters" / "Old.png", write_card_png(new_card("Old", first_mes="Hey.")))
    write(public / "chats" / "Old" / "Old - 1.jsonl", chat_lines(7, 1))
    write(public / "worlds" / "W.json", json.dumps(WORLD))
    write(
        public / "settings.json",
        json.dumps({"power_user": {"personas": {"p.png": "P"}, "default_persona": "p.png"}}),
    )
    _, summary, _ = run(data_dir, "import-sillytavern", str(tmp_path / "SillyTavern"))
    assert summary["imported"] == {"characters": 1, "chats": 1, "lorebooks": 1, "personas": 1}
    store = Store.open_sqlite(Settings(data_dir=data_dir).database_path)
    try:
        default = store.default_persona()
        assert default is not None and default.name == "P"
        chat = next(c for c in store.list_chats() if c.title == "Old - 1")
        texts = [m.text for m in store.history(chat.id)]
        assert texts == ["hi 0", "reply 7/1/0", "hi 1", "reply 7/1/1"]
    finally:
        store.close()


def test_export_refuses_a_folder_that_is_not_empty(data_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "export-all", "--out", str(tmp_path / "full")]
    )
    assert result.exit_code == 1 and "not an empty folder" in result.stderr
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_groups_import_with_their_current_chat_once(data_dir: Path, tmp_path: Path) -> None:
    user = tmp_path / "st" / "data" / "default-user"
    for name in ("Ann", "Ben"):
        write(user / "characters" / f"{name}.png", write_card_png(new_card(name, first_mes="Hi.")))
    group = {
        "id": "1711111111111",
        "name": "Duo",
        "members": ["Ann.png", "Ben.png"],
        "disabled_members": ["Ben.png"],
        "activation_strategy": 3,
        "generation_mode": 1,
        "chat_id": "2024-05-01@10h00m00s",
        "chats": ["2024-04-01@10h00m00s", "2024-05-01@10h00m00s"],
        "fav": True,
    }
    write(user / "groups" / "1711111111111.json", json.dumps(group))
    lines = [
        {"user_name": "unused", "character_name": "unused", "chat_metadata": {}},
        {"name": "You", "is_user": True, "send_date": "x", "mes": "hello"},
        {
            "name": "Ann",
            "is_user": False,
            "send_date": "x",
            "mes": "hey",
            "original_avatar": "Ann.png",
        },
    ]
    current = "\n".join(json.dumps(line) for line in lines)
    write(user / "group chats" / "2024-05-01@10h00m00s.jsonl", current)
    write(user / "group chats" / "2024-04-01@10h00m00s.jsonl", current)
    write(user / "group chats" / "stray.jsonl", current)
    _, dry, _ = run(data_dir, "import-sillytavern", str(tmp_path / "st"), "--dry-run")
    assert dry["imported"] == {"characters": 2, "groups": 1}
    _, first, _ = run(data_dir, "import-sillytavern", str(tmp_path / "st"))
    assert first["imported"] == {"characters": 2, "groups": 1}
    skipped = {item["file"]: item["reason"] for item in first["skipped"]}
    assert skipped == {
        "group chats/2024-04-01@10h00m00s.jsonl": "an older chat of a group: "
        "pytavern keeps a group's current chat",
        "group chats/stray.jsonl": "no group in groups/ has this chat",
    }
    _, second, _ = run(data_dir, "import-sillytavern", str(tmp_path / "st"))
    assert second["imported"] == {} and second["already_present"]["groups"] == 1
    store = Store.open_sqlite(Settings(data_dir=data_dir).database_path)
    try:
        [stored] = store.list_groups()
        assert stored.data == group
        assert stored.chat_id is not None
        assert [m.text for m in store.history(stored.chat_id)] == ["hello", "hey"]
    finally:
        store.close()
    out = tmp_path / "exported"
    _, exported, _ = run(data_dir, "export-all", "--out", str(out))
    assert exported["groups"] == 1 and exported["group chats"] == 1
    assert json.loads((out / "groups" / "1711111111111.json").read_text()) == group
    written = (out / "group chats" / "2024-05-01@10h00m00s.jsonl").read_text()
    assert [json.loads(line)["mes"] for line in written.splitlines()[1:]] == ["hello", "hey"]
    assert not (out / "chats" / "Ann").exists()  # the group chat is not Ann's own chat
    _, again, _ = run(tmp_path / "fresh", "import-sillytavern", str(out))
    assert again["imported"]["groups"] == 1 and again["skipped"] == []
