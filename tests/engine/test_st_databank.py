"""SillyTavern's Data Bank attachments (global, a character's, a chat's, switched off)
through import-sillytavern and export-all: once, with missing files listed, and back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytavern.engine.databank import chunk_text
from pytavern.formats.cards import new_card, write_card_png
from pytavern.formats.png import solid_png
from pytavern.settings import Settings
from pytavern.store import Store
from tests.engine.test_st_folder import run, write

HTML = "<html><body><h1>Map</h1><p>North &amp; south.</p></body></html>"


CREATED = 1_712_345_678_901
"""When the attachments were made, in SillyTavern's milliseconds (kept both ways)."""


def attachment(name: str, file: str, **more: Any) -> dict[str, Any]:
    return {"url": f"/user/files/{file}", "size": 10, "name": name, "created": CREATED, **more}


def chat_file(attachments: list[dict[str, Any]]) -> str:
    metadata = {"note_prompt": "kept", "attachments": attachments}
    lines = [
        {"user_name": "You", "character_name": "Iris", "chat_metadata": metadata},
        {"name": "You", "is_user": True, "send_date": "x", "mes": "hello"},
        {"name": "Iris", "is_user": False, "send_date": "x", "mes": "hey"},
    ]
    return "\n".join(json.dumps(line) for line in lines)


def st_folder(root: Path) -> Path:
    """Cards Iris and Ann, a chat of Iris's and a group chat with attachments, and
    settings.json's global and character attachments (one switched off, one missing, one
    of a card that is not there)."""
    user = root / "data" / "default-user"
    for name in ("Iris", "Ann"):
        card = write_card_png(new_card(name, first_mes="Hi."), solid_png())
        write(user / "characters" / f"{name}.png", card)
    files = user / "user" / "files"
    write(files / "1712345678901_notes.txt", "Global notes.\r\nSecond line.")
    write(files / "map-2.html", HTML)
    write(files / "lore-3.txt", "Iris was born in the marsh.")
    write(files / "diary-4.txt", "Day one: rain.")
    write(files / "plan-5.txt", "The duo's plan.")
    write(
        user / "chats" / "Iris" / "Iris - 1.jsonl",
        chat_file([attachment("diary", "diary-4.txt"), attachment("later", "later-6.txt")]),
    )
    group = {
        "id": "1711111111111",
        "name": "Duo",
        "members": ["Iris.png", "Ann.png"],
        "chat_id": "2024-05-01@10h00m00s",
        "chats": ["2024-05-01@10h00m00s"],
    }
    write(user / "groups" / "1711111111111.json", json.dumps(group))
    plan = chat_file([attachment("plan.pdf", "plan-5.txt")])
    write(user / "group chats" / "2024-05-01@10h00m00s.jsonl", plan)
    extension = {
        "attachments": [
            attachment("notes.txt", "1712345678901_notes.txt"),
            attachment("map.html", "map-2.html"),
            attachment("gone.txt", "gone-9.txt"),
            "not an attachment",
        ],
        "character_attachments": {
            "Iris.png": [attachment("lore.md", "lore-3.txt")],
            "Nobody.png": [attachment("lost.txt", "lore-3.txt")],
        },
        "disabled_attachments": ["/user/files/lore-3.txt"],
    }
    write(user / "settings.json", json.dumps({"extension_settings": extension}))
    return root


Document = tuple[str, str, str, str, bool]


def documents(data_dir: Path) -> list[Document]:
    """Every document as (scope, whose: character name or chat title, name, text, on)."""
    store = Store.open_sqlite(Settings(data_dir=data_dir).database_path)
    try:
        characters = {c.id: c.name for c in store.list_characters()}
        chats = {c.id: c.title for c in store.list_chats()}
        found = []
        for document in store.all_documents():
            if document.chat_id is not None:
                whose = chats[document.chat_id]
            else:
                whose = characters.get(document.character_id or 0, "")
            text = store.document_text(document.id)
            found.append((document.scope, whose, document.name, text, document.enabled))
        return sorted(found)
    finally:
        store.close()


EXPECTED = [
    ("character", "Iris", "lore.md", "Iris was born in the marsh.", False),
    ("chat", "2024-05-01@10h00m00s", "plan.pdf", "The duo's plan.", True),
    ("chat", "Iris - 1", "diary", "Day one: rain.", True),
    ("global", "", "map.html", "Map\n\nNorth & south.", True),
    ("global", "", "notes.txt", "Global notes.\nSecond line.", True),
]


def test_attachments_of_every_scope_import_once(data_dir: Path, tmp_path: Path) -> None:
    folder = st_folder(tmp_path / "st")
    _, dry, _ = run(data_dir, "import-sillytavern", str(folder), "--dry-run")
    assert dry["imported"]["documents"] == 5 and len(dry["skipped"]) == 3
    assert documents(data_dir) == []
    _, first, _ = run(data_dir, "import-sillytavern", str(folder))
    assert first["imported"]["documents"] == 5 and first["broken"] == []
    skipped = {(s["file"], s["reason"]) for s in first["skipped"]}
    assert skipped == {
        ("user/files/gone-9.txt", "the file of gone.txt (settings.json) is missing"),
        ("user/files/later-6.txt", "the file of later (chats/Iris/Iris - 1.jsonl) is missing"),
        (
            "settings.json",
            "Data Bank attachments of Nobody.png: no such card was read from characters/",
        ),
    }
    assert documents(data_dir) == EXPECTED
    store = Store.open_sqlite(Settings(data_dir=data_dir).database_path)
    try:
        chat = next(c for c in store.list_chats() if c.title == "Iris - 1")
        assert "attachments" not in chat.metadata  # the documents are the attachments now
        assert chat.metadata["note_prompt"] == "kept"
    finally:
        store.close()

    _, second, _ = run(data_dir, "import-sillytavern", str(folder))
    assert "documents" not in second["imported"]
    assert second["already_present"]["documents"] == 5
    assert documents(data_dir) == EXPECTED

    files = folder / "data" / "default-user" / "user" / "files"
    write(files / "gone-9.txt", "Found again.")
    write(files / "later-6.txt", "Later notes.")
    _, third, _ = run(data_dir, "import-sillytavern", str(folder))
    assert third["imported"]["documents"] == 2 and third["already_present"]["documents"] == 5
    assert len(documents(data_dir)) == 7


def test_documents_export_and_import_back(data_dir: Path, tmp_path: Path) -> None:
    run(data_dir, "import-sillytavern", str(st_folder(tmp_path / "st")))
    store = Store.open_sqlite(Settings(data_dir=data_dir).database_path)
    try:
        wren = next(c for c in store.list_characters() if c.name == "Iris")
        chat = next(c for c in store.list_chats() if c.title == "Iris - 1")
        typed = "Typed <b>here</b> & kept."
        store.add_document("page.html", typed, chunk_text(typed, 400))
        again = "Other notes, same name."
        store.add_document("notes.txt", again, [again])
        odd = store.add_document("what? #1 100%", "Odd name.", ["Odd name."], chat_id=chat.id)
        store.set_document_enabled(odd.id, False)
        store.add_document("lore.md", "More lore.", ["More lore."], character_id=wren.id)
    finally:
        store.close()
    before = documents(data_dir)
    assert len(before) == 9

    out = tmp_path / "out"
    _, exported, _ = run(data_dir, "export-all", "--out", str(out))
    assert exported["documents"] == 9
    settings = json.loads((out / "settings.json").read_text())["extension_settings"]
    assert sorted(a["name"] for a in settings["attachments"]) == [
        "map.html",
        "notes.txt",
        "notes.txt",
        "page.html",
    ]
    [wren_file] = list(settings["character_attachments"])
    assert (out / "characters" / wren_file).is_file()
    listed = [a["url"] for a in settings["attachments"]]
    listed += [a["url"] for a in settings["character_attachments"][wren_file]]
    header = json.loads((out / "chats" / "Iris" / "Iris - 1.jsonl").read_text().split("\n")[0])
    chat_listed = header["chat_metadata"]["attachments"]
    assert sorted(a["name"] for a in chat_listed) == ["diary", "what? #1 100%"]
    assert header["chat_metadata"]["note_prompt"] == "kept"
    added_here = {"page.html", "what? #1 100%", "notes.txt"}  # one notes.txt came from ST
    for entry in [*settings["attachments"], *chat_listed]:
        file = out / entry["url"].lstrip("/")
        assert entry["size"] == len(file.read_bytes())
        assert entry["created"] == CREATED or entry["name"] in added_here
    created = sorted(a["created"] for a in settings["attachments"] if a["name"] == "notes.txt")
    assert created[0] == CREATED and created[1] > CREATED  # imported, then typed here
    odd = next(a for a in chat_listed if a["name"] == "what? #1 100%")
    assert odd["url"] == "/user/files/what_1_100.txt"
    assert len(set(listed)) == len(listed)
    assert (
        len(settings["disabled_attachments"]) == 2
        and odd["url"] in settings["disabled_attachments"]
    )

    fresh = tmp_path / "fresh"
    _, back, _ = run(fresh, "import-sillytavern", str(out))
    assert back["imported"]["documents"] == 9
    assert back["skipped"] == [] and back["broken"] == []
    assert documents(fresh) == before
    _, twice, _ = run(fresh, "import-sillytavern", str(out))
    assert twice["already_present"]["documents"] == 9 and documents(fresh) == before


def test_a_chat_without_documents_exports_no_stale_attachments(
    data_dir: Path, tmp_path: Path
) -> None:
    run(data_dir, "import-sillytavern", str(st_folder(tmp_path / "st")))
    store = Store.open_sqlite(Settings(data_dir=data_dir).database_path)
    try:
        chat = next(c for c in store.list_chats() if c.title == "Iris - 1")
        for document in store.list_documents(chat_id=chat.id):
            if document.chat_id == chat.id:
                store.delete_document(document.id)
        # as a chat imported on its own (pytavern import chat) keeps SillyTavern's listing
        store.merge_chat_metadata(chat.id, {"attachments": [{"url": "x"}]})
    finally:
        store.close()
    out = tmp_path / "out"
    run(data_dir, "export-all", "--out", str(out))
    header = json.loads((out / "chats" / "Iris" / "Iris - 1.jsonl").read_text().split("\n")[0])
    assert "attachments" not in header["chat_metadata"]
    assert header["chat_metadata"]["note_prompt"] == "kept"


def test_an_export_imported_into_its_own_data_adds_nothing(data_dir: Path, tmp_path: Path) -> None:
    run(data_dir, "import-sillytavern", str(st_folder(tmp_path / "st")))
    store = Store.open_sqlite(Settings(data_dir=data_dir).database_path)
    try:
        typed = "Typed in a form.\r\nSecond line."  # comes back from the file with \n
        store.add_document("typed", typed, [typed])
    finally:
        store.close()
    before = documents(data_dir)
    out = tmp_path / "out"
    run(data_dir, "export-all", "--out", str(out))
    _, back, _ = run(data_dir, "import-sillytavern", str(out))
    # a chat is known by the file it came from, so the exported file of Iris - 1 comes in as
    # a second chat, with its own diary; every other document is known already
    assert back["imported"] == {"chats": 1, "documents": 1}
    assert back["already_present"]["documents"] == 5
    after = documents(data_dir)
    assert [d for d in after if d[0] != "chat"] == [d for d in before if d[0] != "chat"]
    assert [d[2] for d in after if d[0] == "chat"] == ["plan.pdf", "diary", "diary"]
