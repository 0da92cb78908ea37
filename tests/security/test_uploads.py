"""Oversized bodies get 413; hostile file names never become paths; nothing is written outside
the data directory; export file names are plain."""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from pytavern.server import create_app
from pytavern.settings import Settings
from tests.scripted import ScriptBook

LIMIT = 4096
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4d90000000049454e44ae426082"
)
HOSTILE = [
    "../../x.json",
    "/tmp/pytavern-abs/x.json",
    "x\x00y.json",
    "..\\..\\x.json",
    "....//x.json",
    "..",
    "\x00",
    "a/../../../etc/passwd",
]
DISPOSITION = re.compile(r'attachment; filename="[A-Za-z0-9._-]+"')


@pytest.fixture
async def http(data_dir: Path, scripted: ScriptBook) -> AsyncIterator[httpx.AsyncClient]:
    app: Starlette = create_app(Settings(data_dir=data_dir, max_upload_bytes=LIMIT))
    store = app.state.engine.store
    store.save_connection(name="s", api="scripted")
    store.set_default_connection("s")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client
    await app.state.engine.aclose()


def tree(root: Path, skip: Path) -> set[str]:
    """Every path under ``root`` except those inside ``skip``."""
    found = set()
    for folder, dirs, files in os.walk(root):
        if Path(folder).is_relative_to(skip):
            continue
        found.update(os.path.join(folder, name) for name in dirs + files)
    return found


def _uploads(chat_line: bytes) -> list[tuple[str, bytes]]:
    return [
        ("/api/characters/import", json.dumps({"name": "Up", "first_mes": "Hi"}).encode()),
        ("/api/characters/1/chats/import", chat_line),
        ("/api/lorebooks/import", json.dumps({"entries": {}}).encode()),
    ]


async def test_bodies_over_the_limit_are_413(http: httpx.AsyncClient) -> None:
    persona = (await http.post("/api/personas", json={"name": "P"})).json()["id"]
    big = b"x" * (LIMIT + 1)
    routes = [
        ("POST", "/api/characters/import"),
        ("PUT", "/api/characters/1/avatar"),
        ("PUT", f"/api/personas/{persona}/avatar"),
        ("POST", "/api/characters/1/chats/import"),
        ("POST", "/api/lorebooks/import"),
        ("POST", "/api/characters"),
        ("PUT", "/api/lorebooks/big"),
    ]

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"y" * (LIMIT // 4)

    for method, url in routes:
        declared = await http.request(method, url, content=big)
        assert declared.status_code == 413, (method, url, declared.text)
        assert declared.json()["error"]["type"] == "UploadTooLargeError"
        streamed = await http.request(method, url, content=chunked())
        assert streamed.status_code == 413, (method, url, streamed.text)
    fits = await http.put("/api/characters/1/avatar", content=PNG)
    assert fits.status_code == 200
    assert [c["name"] for c in (await http.get("/api/characters")).json()] == ["Wren"]


def _plain(name: str) -> bool:
    return not any(bad in name for bad in ("/", "\\", "\x00")) and name not in ("", ".", "..")


async def test_hostile_file_names_stay_names(http: httpx.AsyncClient, data_dir: Path) -> None:
    root = data_dir.parent
    cwd = set(os.listdir("."))
    before = tree(root, data_dir)
    chat = (await http.post("/api/characters/1/chats")).json()["id"]
    await http.post(f"/api/chats/{chat}/generate", json={"mode": "send", "text": "Hi"})
    exported = (await http.get(f"/api/chats/{chat}/export")).content
    for filename in HOSTILE:
        for url, body in _uploads(exported):
            response = await http.post(url, params={"filename": filename}, content=body)
            assert response.status_code in (201, 400), (url, filename, response.text)
            if response.status_code == 201:
                made = response.json()
                name = made.get("title") or made["name"]
                assert _plain(name), (url, filename, name)
        named = await http.post(
            "/api/lorebooks/import",
            params={"filename": "ok.json", "name": filename},
            content=b'{"entries": {}}',
        )
        assert named.status_code in (201, 400) and _plain(named.json().get("name", "x")), filename
    assert tree(root, data_dir) == before
    assert set(os.listdir(".")) == cwd
    assert not Path("/tmp/pytavern-abs").exists()


async def test_export_file_names_are_plain(http: httpx.AsyncClient) -> None:
    hostile = '../../evil\x00"; x=\r\nX-Injected: 1'
    made = await http.post("/api/characters", json={"card": {"name": hostile}})
    character = made.json()["id"]
    chat = (await http.post(f"/api/characters/{character}/chats")).json()["id"]
    await http.patch(f"/api/chats/{chat}", json={"title": "../../etc/passwd"})
    await http.put("/api/lorebooks/..%2F..%2Fbook", json={"data": {"entries": {}}})
    names = [b["name"] for b in (await http.get("/api/lorebooks")).json()]
    urls = [
        f"/api/characters/{character}/export",
        f"/api/characters/{character}/export?format=json",
        f"/api/chats/{chat}/export",
        *(f"/api/lorebooks/{httpx.URL(path=n).path}/export" for n in names),
    ]
    for url in urls:
        response = await http.get(url)
        assert response.status_code == 200, (url, response.text)
        disposition = response.headers["content-disposition"]
        assert DISPOSITION.fullmatch(disposition), disposition
        assert "x-injected" not in response.headers
