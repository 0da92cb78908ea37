"""``/api/databank``: documents typed in or uploaded (every chat's, a character's, a chat's),
listed as a chat may use them, read, switched and removed; a turn through the API carries
the chunk sharing words with the user's message; each account sees only its own."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from pytavern.engine.services import databank as databank_service
from tests.office_files import docx, epub, paragraph
from tests.pdfs import text_pdf
from tests.scripted import Script, ScriptBook
from tests.server.conftest import generate, login, start_chat

ORRIN = "The lighthouse keeper is called Orrin; he keeps a grey cat named Mizzen."
FISH = "Fish are sold at dawn on the long quay by the old market."


async def _add(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/databank", json=body)
    assert response.status_code == 201, response.text
    document: dict[str, Any] = response.json()
    return document


async def _names(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/api/databank", params=params)
    assert response.status_code == 200, response.text
    return [d["name"] for d in response.json()]


async def test_add_upload_list_read_switch_and_delete(client: httpx.AsyncClient) -> None:
    chat, other = await start_chat(client), await start_chat(client)
    everyone = await _add(client, name="Everyone's", text=FISH)
    assert everyone["scope"] == "global" and everyone["enabled"] is True
    assert (everyone["length"], everyone["chunks"]) == (len(FISH), 1)
    wren = await _add(client, name="Wren's", text="Wren sings.", character_id=1)
    assert (wren["scope"], wren["character_id"], wren["chat_id"]) == ("character", 1, None)
    uploaded = await client.post(
        "/api/databank/upload",
        params={"filename": "keeper.md", "chat_id": chat["id"]},
        content=f"# Keeper\n\n{ORRIN}\n".encode(),
    )
    assert uploaded.status_code == 201, uploaded.text
    keeper = uploaded.json()
    assert (keeper["name"], keeper["scope"], keeper["chat_id"]) == ("keeper.md", "chat", chat["id"])
    await _add(client, name="Theirs", text="Not for this chat.", chat_id=other["id"])

    assert await _names(client, chat_id=chat["id"]) == ["Everyone's", "Wren's", "keeper.md"]
    assert await _names(client, character_id=1) == ["Everyone's", "Wren's"]
    assert await _names(client) == ["Everyone's", "Wren's", "keeper.md", "Theirs"]

    read = (await client.get(f"/api/databank/{keeper['id']}")).json()
    assert read["text"] == f"# Keeper\n\n{ORRIN}" and read["id"] == keeper["id"]
    switched = await client.patch(f"/api/databank/{keeper['id']}", json={"enabled": False})
    assert switched.status_code == 200 and switched.json()["enabled"] is False
    listed = (await client.get("/api/databank", params={"chat_id": chat["id"]})).json()
    assert [d["enabled"] for d in listed] == [True, True, False]

    assert (await client.delete(f"/api/databank/{keeper['id']}")).status_code == 204
    gone = await client.get(f"/api/databank/{keeper['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["hint"]
    assert (await client.delete(f"/api/databank/{keeper['id']}")).status_code == 404
    patched = await client.patch(f"/api/databank/{keeper['id']}", json={"enabled": True})
    assert patched.status_code == 404


async def test_a_pdf_is_attached_as_its_text(client: httpx.AsyncClient) -> None:
    pdf = text_pdf(["The keeper is Orrin.", "He keeps a cat."])
    added = await client.post("/api/databank/upload", params={"filename": "rules.pdf"}, content=pdf)
    assert added.status_code == 201, added.text
    document = (await client.get(f"/api/databank/{added.json()['id']}")).json()
    assert document["name"] == "rules.pdf"
    assert document["text"] == "The keeper is Orrin.\nHe keeps a cat."


async def test_the_server_answers_while_a_long_file_is_read(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    reading, done = threading.Event(), threading.Event()

    def slow_text(filename: str, data: bytes) -> str:
        reading.set()
        assert done.wait(10), "the test did not let the reading end"
        return data.decode()

    monkeypatch.setattr(databank_service, "document_text", slow_text)
    upload = asyncio.create_task(
        client.post("/api/databank/upload", params={"filename": "long.txt"}, content=b"Long.")
    )
    assert await asyncio.to_thread(reading.wait, 10)
    assert (await client.get("/api/health")).status_code == 200  # not behind the reading
    done.set()
    assert (await upload).status_code == 201


async def test_a_word_document_and_an_ebook_are_attached_as_their_text(
    client: httpx.AsyncClient,
) -> None:
    word = docx(paragraph("The keeper is Orrin.") + paragraph("He keeps a cat."))
    book = epub({"one.xhtml": "<p>Mizzen is grey.</p>"}, ["one.xhtml"])
    texts = []
    for filename, data in (("rules.docx", word), ("tale.epub", book)):
        added = await client.post(
            "/api/databank/upload", params={"filename": filename}, content=data
        )
        assert added.status_code == 201, added.text
        texts.append((await client.get(f"/api/databank/{added.json()['id']}")).json()["text"])
    assert texts == ["The keeper is Orrin.\n\nHe keeps a cat.", "Mizzen is grey."]


async def test_what_is_not_text_or_has_no_owner_is_refused(client: httpx.AsyncClient) -> None:
    word = await client.post(
        "/api/databank/upload", params={"filename": "book.doc"}, content=b"PK\x03\x04"
    )
    assert word.status_code == 400
    error = word.json()["error"]
    assert error["type"] == "ConfigError" and "not .doc files" in error["message"]
    assert "Save it as text" in error["hint"]
    broken = await client.post(
        "/api/databank/upload", params={"filename": "book.pdf"}, content=b"%PDF-1.7\n"
    )
    assert broken.status_code == 400
    assert "could not be read as a PDF" in broken.json()["error"]["message"]
    binary = await client.post(
        "/api/databank/upload", params={"filename": "notes.txt"}, content=b"\xff\xfe\x00bad"
    )
    assert binary.status_code == 400 and "not UTF-8" in binary.json()["error"]["message"]
    both = await client.post(
        "/api/databank", json={"name": "x", "text": "y", "character_id": 1, "chat_id": 1}
    )
    assert both.status_code == 400 and "not both" in both.json()["error"]["message"]
    blank = await client.post("/api/databank", json={"name": "Blank", "text": "  \n "})
    assert blank.status_code == 400 and "no text" in blank.json()["error"]["message"]
    no_chat = await client.post(
        "/api/databank/upload", params={"filename": "a.txt", "chat_id": 999}, content=b"hi"
    )
    assert no_chat.status_code == 404
    no_character = await client.post(
        "/api/databank", json={"name": "x", "text": "y", "character_id": 999}
    )
    assert no_character.status_code == 404
    assert (await client.get("/api/databank", params={"chat_id": 999})).status_code == 404
    assert (await client.get("/api/databank")).json() == []


async def test_a_turn_through_the_api_carries_the_chunk_sharing_a_word(
    client: httpx.AsyncClient, scripted: ScriptBook
) -> None:
    chat = await start_chat(client)
    settings = await client.patch("/api/settings", json={"databank": {"chunk_size": 100}})
    assert settings.status_code == 200, settings.text
    document = await _add(client, name="Harbour", text=f"{FISH}\n\n{ORRIN}", character_id=1)
    assert document["chunks"] == 2
    scripted.scripts += [Script(["A fine fellow."]), Script(["Sunny."]), Script(["Him."])]
    await generate(client, chat["id"], mode="send", text="Who is Orrin?")
    sent = [m.content for m in scripted.requests[-1].messages]
    found = [text for text in sent if ORRIN in text]
    assert found == [f"Related information:\n{ORRIN}"]  # that chunk alone, in its template
    assert not any(FISH in text for text in sent)

    await generate(client, chat["id"], mode="send", text="Tell me about the weather.")
    assert not any(ORRIN in m.content for m in scripted.requests[-1].messages)

    await client.patch(f"/api/databank/{document['id']}", json={"enabled": False})
    await generate(client, chat["id"], mode="send", text="Who is Orrin?")
    assert not any(ORRIN in m.content for m in scripted.requests[-1].messages)


async def test_each_account_sees_only_its_documents(accounts_app: httpx.AsyncClient) -> None:
    accounts = accounts_app
    accounts.headers["X-CSRF-Token"] = await login(accounts, "ada", "correct horse")
    adas = await _add(accounts, name="Ada's notes", text=ORRIN)
    wren = (await accounts.get("/api/characters")).json()[0]["id"]
    chat = (await accounts.post(f"/api/characters/{wren}/chats")).json()
    await _add(accounts, name="Ada's chat", text=FISH, chat_id=chat["id"])
    assert await _names(accounts) == ["Ada's notes", "Ada's chat"]
    await accounts.post("/api/auth/logout")
    accounts.headers["X-CSRF-Token"] = await login(accounts, "bob", "battery staple")
    assert await _names(accounts) == []
    assert (await accounts.get(f"/api/databank/{adas['id']}")).status_code == 404
    assert (await accounts.delete(f"/api/databank/{adas['id']}")).status_code == 404
    assert (await accounts.get("/api/databank", params={"chat_id": chat["id"]})).status_code == 404
    for owner in ({"chat_id": chat["id"]}, {"character_id": wren}):
        refused = await accounts.post("/api/databank", json={"name": "x", "text": "y", **owner})
        assert refused.status_code == 404
