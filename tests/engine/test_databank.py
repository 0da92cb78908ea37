"""The Data Bank: documents read from files, cut into chunks at the best breaks, and the
chunks sharing words with the newest messages put into the prompt where the settings say."""

from __future__ import annotations

import json

import pytest

from pytavern.engine import Engine
from pytavern.engine.databank import MAX_DOCUMENT_BYTES, chunk_text, document_text
from pytavern.engine.preferences import save_preferences
from pytavern.engine.services import Services
from pytavern.errors import ConfigError
from tests.pdfs import text_pdf
from tests.scripted import Script, ScriptBook

ORRIN = "The lighthouse keeper is called Orrin; he keeps a grey cat named Mizzen."


def test_chunks_break_at_paragraphs_then_lines_sentences_and_words() -> None:
    text = "First paragraph here.\n\nSecond one.\n\n\n" + "Third. " * 3
    assert chunk_text(text, 40) == ["First paragraph here.\n\nSecond one.", "Third. Third. Third."]
    assert chunk_text("One line\nand another line", 12) == ["One line", "and another", "line"]
    sentences = "Alpha is first. Beta is second! Gamma is third?"
    assert chunk_text(sentences, 20) == ["Alpha is first.", "Beta is second!", "Gamma is third?"]
    assert chunk_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert chunk_text("  \n\n ", 100) == []
    long_text = " ".join(f"word{i}" for i in range(500))
    chunks = chunk_text(long_text, 100)
    assert all(len(c) <= 100 for c in chunks) and " ".join(chunks) == long_text


def test_files_are_read_as_text() -> None:
    assert document_text("a.txt", b"\xef\xbb\xbfline\r\nnext") == "line\nnext"
    html = b"<html><head><title>T</title><style>p{}</style></head><body><h1>Keeper</h1>"
    html += b"<p>Orrin &amp; Mizzen</p><script>alert(1)</script><p>Lamp</p></body></html>"
    assert document_text("page.HTML", html) == "Keeper\n\nOrrin & Mizzen\n\nLamp"
    assert json.loads(document_text("d.json", b'{"keeper": "Orrin"}')) == {"keeper": "Orrin"}
    with pytest.raises(ConfigError, match=r"not \.doc files") as refused:
        document_text("book.doc", b"PK\x03\x04")
    assert refused.value.hint and "text" in refused.value.hint
    with pytest.raises(ConfigError, match="not UTF-8"):
        document_text("notes.txt", b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="not valid JSON"):
        document_text("d.json", b"{oops")
    with pytest.raises(ConfigError, match="at most 10 MB"):
        document_text("big.txt", b"x" * (MAX_DOCUMENT_BYTES + 1))


async def _send(engine: Engine, chat_id: int, text: str) -> None:
    async for _event in engine.generate(chat_id, "send", text):
        pass


def chat_with_services(engine: Engine) -> tuple[Services, int, int]:
    services = Services(engine)
    character = engine.store.list_characters()[0]
    return services, engine.start_chat(character.id).id, character.id


async def test_a_document_that_shares_words_goes_into_the_prompt(
    engine: Engine, scripted: ScriptBook
) -> None:
    services, chat_id, character_id = chat_with_services(engine)
    await _send(engine, chat_id, "Who keeps the lighthouse?")  # nothing attached yet
    assert all(ORRIN not in m.content for m in scripted.requests[-1].messages)

    save_preferences(engine.store, {"databank": {"chunk_size": 100}})  # two chunks
    document = services.databank.add_text(
        "Harbour notes",
        f"Fish are sold at dawn on the long quay by the old market.\n\n{ORRIN}",
        character_id=character_id,
    )
    await _send(engine, chat_id, "Who keeps the lighthouse?")
    sent = scripted.requests[-1].messages
    blocks = [m for m in sent if "Related information:" in m.content]
    assert len(blocks) == 1 and blocks[0].role == "system"
    assert ORRIN in blocks[0].content and "Fish are sold" not in blocks[0].content  # one chunk
    assert sent.index(blocks[0]) < 3  # in the prompt, after the main prompt

    await _send(engine, chat_id, "Tell me about the weather.")  # nothing in common
    assert all(ORRIN not in m.content for m in scripted.requests[-1].messages)

    services.databank.enable(document.id, False)
    await _send(engine, chat_id, "Who keeps the lighthouse?")
    assert all(ORRIN not in m.content for m in scripted.requests[-1].messages)


async def test_the_settings_place_it_and_a_chat_uses_only_what_is_in_its_reach(
    engine: Engine, scripted: ScriptBook
) -> None:
    services, chat_id, character_id = chat_with_services(engine)
    other_chat = engine.start_chat(character_id).id
    services.databank.add_text("Mine", ORRIN, chat_id=other_chat)
    await _send(engine, chat_id, "Who keeps the lighthouse? Orrin?")
    assert all(ORRIN not in m.content for m in scripted.requests[-1].messages)

    services.databank.add_text("Ours", ORRIN, chat_id=chat_id)
    databank = {
        "position": "in_chat",
        "depth": 0,
        "role": "user",
        "template": "Notes ({{char}}): {{text}}",
    }
    save_preferences(engine.store, {"databank": databank})
    await _send(engine, chat_id, "Who keeps the lighthouse?")
    last = scripted.requests[-1].messages[-1]
    assert last.role == "user" and last.content == f"Notes (Wren): {ORRIN}"

    save_preferences(engine.store, {"databank": {"enabled": False}})
    await _send(engine, chat_id, "Who keeps the lighthouse?")
    assert all(ORRIN not in m.content for m in scripted.requests[-1].messages)


async def test_a_summary_turn_leaves_the_data_bank_out(
    engine: Engine, scripted: ScriptBook
) -> None:
    services, chat_id, _character_id = chat_with_services(engine)
    services.databank.add_text("Everyone's", ORRIN)
    await _send(engine, chat_id, "Who keeps the lighthouse?")
    assert any(ORRIN in m.content for m in scripted.requests[-1].messages)
    scripted.scripts.append(Script(["They talked of the lighthouse."]))
    async for _event in engine.generate(chat_id, "summarize"):
        pass
    assert all(ORRIN not in m.content for m in scripted.requests[-1].messages)


def test_documents_are_cut_with_the_chunk_size_of_the_settings(engine: Engine) -> None:
    services, chat_id, _character_id = chat_with_services(engine)
    save_preferences(engine.store, {"databank": {"chunk_size": 100}})
    text = "\n\n".join(f"Paragraph {i} " + "words " * 12 for i in range(10))
    document = services.databank.add_text("Long", text, chat_id=chat_id)
    assert document.chunks == 10 and document.scope == "chat"
    with pytest.raises(ConfigError, match="no text"):
        services.databank.add_text("Empty", "   ")
    with pytest.raises(ConfigError, match="not both"):
        services.databank.add_text("Both", "x", character_id=1, chat_id=chat_id)


async def test_a_group_chat_uses_and_lists_its_members_documents(
    engine: Engine, scripted: ScriptBook
) -> None:
    services = Services(engine)
    engine.store.add_character(
        {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Bob"}}
    )
    group = services.groups.create("Harbour", ["Wren", "Bob"], strategy="list")
    bob = services.characters.pick("Bob").id
    services.databank.add_text("Bob's", ORRIN, character_id=bob)
    chat_id = group.chat_id or 0
    assert [d.name for d in services.databank.list(chat_id=chat_id)] == ["Bob's"]
    await services.groups.send(group.id, "Who keeps the lighthouse?")
    bob_asked = scripted.requests[-1].messages  # Bob answers second
    assert any(ORRIN in m.content for m in bob_asked)


def test_a_pdfs_text_is_read_page_by_page() -> None:
    text = document_text("rules.PDF", text_pdf(["The keeper is Orrin.", "He keeps a cat."]))
    assert text == "The keeper is Orrin.\nHe keeps a cat."
    with pytest.raises(ConfigError, match="could not be read as a PDF") as broken:
        document_text("rules.pdf", b"%PDF-1.7\nnot really")
    assert broken.value.hint and "save" in broken.value.hint.lower()
    with pytest.raises(ConfigError, match="no text layer"):
        document_text("scan.pdf", text_pdf([]))
