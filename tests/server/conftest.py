"""Fixtures for the server tests: an app over a fresh data dir and the scripted provider."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from pytavern.security.passwords import hash_password
from pytavern.server import create_app
from pytavern.settings import Settings
from tests.scripted import ScriptBook

SECRET = "sk-test-abcdefgh12345678WXYZ"


@pytest.fixture
def app(data_dir: Path, scripted: ScriptBook) -> Starlette:
    application = create_app(Settings(data_dir=data_dir))
    store = application.state.engine.store
    store.save_connection(name="s", api="scripted")
    store.set_default_connection("s")
    return application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        yield http
    await app.state.engine.aclose()


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of an SSE body."""
    events = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def start_chat(client: httpx.AsyncClient) -> dict[str, Any]:
    """A new chat with the default character (id 1)."""
    response = await client.post("/api/characters/1/chats")
    assert response.status_code == 201, response.text
    chat: dict[str, Any] = response.json()
    return chat


async def generate(
    client: httpx.AsyncClient, chat_id: int, **body: Any
) -> list[tuple[str, dict[str, Any]]]:
    """Run one generation to its end and return its events."""
    response = await client.post(f"/api/chats/{chat_id}/generate", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-generation-id"]
    return parse_sse(response.text)


@pytest.fixture
async def accounts_app(data_dir: Path, scripted: ScriptBook) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app with accounts: ada (an administrator) and bob."""
    app = create_app(Settings(data_dir=data_dir, accounts=True))
    store = app.state.engine.store
    store.create_user("ada", hash_password("correct horse"), is_admin=True)
    store.create_user("bob", hash_password("battery staple"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        yield http
    await app.state.engine.aclose()


async def login(http: httpx.AsyncClient, name: str, password: str) -> str:
    """Log ``name`` in on ``http`` (checking the session cookie's flags); the CSRF token."""
    response = await http.post("/api/auth/login", json={"name": name, "password": password})
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    csrf: str = response.json()["csrf"]
    return csrf
