"""The Data Bank in the Python API: ``tavern.databank`` (every chat's and characters'
documents), ``chat.attach`` / ``chat.attach_text`` and ``chat.documents``; sync and async."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import pytavern
from pytavern.api import Document
from pytavern.errors import ConfigError, NotFoundError, StoreError
from tests.scripted import Script, ScriptBook

ORRIN = "The lighthouse keeper is called Orrin; he keeps a grey cat named Mizzen."


@pytest.fixture
def tavern(data_dir: Path, scripted: ScriptBook) -> Iterator[pytavern.Tavern]:
    with pytavern.open(data_dir=data_dir) as opened:
        opened.connections.add("s", "scripted", default=True)
        yield opened


def _carries(scripted: ScriptBook, text: str) -> bool:
    return any(text in m.content for m in scripted.requests[-1].messages)


def test_a_document_attached_to_a_chat_reaches_its_next_request(
    tavern: pytavern.Tavern, scripted: ScriptBook, tmp_path: Path
) -> None:
    source = tmp_path / "keeper.md"
    source.write_text(f"# Keeper\n\n{ORRIN}\n")
    chat, other = tavern.new_chat("Wren"), tavern.new_chat("Wren")
    scripted.scripts += [Script(["A fine fellow."]), Script(["Nobody."]), Script(["Him."])]
    document = chat.attach(source)
    assert isinstance(document, Document)
    assert (document.name, document.scope, document.chat_id) == ("keeper.md", "chat", chat.id)
    assert document.enabled and document.chunks == 1 and document.character_id is None
    assert document.length == len(f"# Keeper\n\n{ORRIN}")

    chat.send("Who is Orrin?")
    assert _carries(scripted, ORRIN)
    other.send("Who is Orrin?")  # another chat of the same character: not its document
    assert not _carries(scripted, ORRIN)

    tavern.databank.enable(document.id, False)
    chat.send("Who is Orrin?")
    assert not _carries(scripted, ORRIN)
    assert [d.enabled for d in chat.documents] == [False]


def test_documents_lists_what_a_chat_may_use(tavern: pytavern.Tavern, tmp_path: Path) -> None:
    chat = tavern.new_chat("Wren")
    tavern.characters.create({"name": "Ash", "first_mes": "Ash nods."})
    everyone = tavern.databank.add_text("Everyone's", "Tides turn at noon.")
    wrens = tavern.databank.add_text("Wren's", "Wren sings.", character="Wren")
    source = tmp_path / "ash.txt"
    source.write_text("Ash carves.")
    ashs = tavern.databank.add(source, character="Ash")
    mine = chat.attach_text("Mine", ORRIN)
    assert (everyone.scope, wrens.scope, ashs.scope, mine.scope) == (
        "global",
        "character",
        "character",
        "chat",
    )
    assert wrens.character_id == tavern.characters.get("Wren").id
    assert ashs.character_id == tavern.characters.get("Ash").id
    assert [d.name for d in chat.documents] == ["Everyone's", "Wren's", "Mine"]
    assert [d.name for d in tavern.databank.all()] == ["Everyone's", "ash.txt", "Wren's", "Mine"]
    assert tavern.databank.text(mine.id) == ORRIN
    assert tavern.databank.enable(wrens.id, False).enabled is False
    assert tavern.databank.enable(wrens.id).enabled is True

    tavern.databank.remove(mine.id)
    assert [d.name for d in chat.documents] == ["Everyone's", "Wren's"]
    with pytest.raises(NotFoundError):
        tavern.databank.text(mine.id)
    with pytest.raises(NotFoundError):
        tavern.databank.remove(mine.id)


def test_what_cannot_be_attached_raises(tavern: pytavern.Tavern, tmp_path: Path) -> None:
    chat = tavern.new_chat("Wren")
    book = tmp_path / "book.doc"
    book.write_bytes(b"PK\x03\x04")
    with pytest.raises(ConfigError, match=r"not \.doc files") as refused:
        chat.attach(book)
    assert refused.value.hint and "text" in refused.value.hint
    with pytest.raises(StoreError, match="cannot be read"):
        tavern.databank.add(tmp_path / "missing.txt")
    with pytest.raises(NotFoundError, match="Nobody"):
        tavern.databank.add_text("x", "y", character="Nobody")
    with pytest.raises(ConfigError, match="no text"):
        chat.attach_text("Blank", "  ")
    assert tavern.databank.all() == [] and chat.documents == []


async def test_the_async_data_bank(data_dir: Path, scripted: ScriptBook, tmp_path: Path) -> None:
    source = tmp_path / "keeper.txt"
    source.write_text(ORRIN)
    async with pytavern.open_async(data_dir) as tavern:
        tavern.connections.add("s", "scripted", default=True)
        chat = await tavern.new_chat("Wren")
        everyone = tavern.databank.add(source)
        assert everyone.scope == "global" and everyone.name == "keeper.txt"
        mine = chat.attach_text("Mine", "The cat Mizzen sleeps by the lamp.")
        assert [d.id for d in chat.documents] == [everyone.id, mine.id]
        scripted.scripts.append(Script(["A fine fellow."]))
        await chat.send("Who is Orrin?")
        assert _carries(scripted, ORRIN)
        tavern.databank.remove(everyone.id)
        assert [d.name for d in tavern.databank.all()] == ["Mine"]
        assert tavern.databank.text(mine.id).startswith("The cat Mizzen")
