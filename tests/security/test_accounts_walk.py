"""With accounts on: every API route needs a session, users never see each other's objects,
and state-changing requests need the session's CSRF token.

The first test walks the app's own OpenAPI description, so a route added later is covered
without editing this file.
"""

from __future__ import annotations

import re
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
from tests.server.conftest import parse_sse

PUBLIC = {
    ("/api/auth/login", "POST"),
    ("/api/health", "GET"),
    ("/api/auth/me", "GET"),
    ("/api/auth/logout", "POST"),
}
"""The public routes: log in, health, "who am I" (user: null) and log out (ends nothing)."""
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4d90000000049454e44ae426082"
)
SECRET = "sk-user-a-0123456789abcdefWXYZ"


@pytest.fixture
async def app(data_dir: Path, scripted: ScriptBook) -> AsyncIterator[Starlette]:
    application = create_app(Settings(data_dir=data_dir, accounts=True))
    store = application.state.engine.store
    store.create_user("ada", hash_password("correct horse"))
    store.create_user("bob", hash_password("battery staple"))
    yield application
    await application.state.engine.aclose()


def client(app: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")


async def login(http: httpx.AsyncClient, name: str, password: str) -> None:
    """Log in and send the CSRF token on every later request of ``http``."""
    response = await http.post("/api/auth/login", json={"name": name, "password": password})
    assert response.status_code == 200, response.text
    http.headers["X-CSRF-Token"] = response.json()["csrf"]


async def test_every_api_route_needs_a_session(app: Starlette) -> None:
    async with client(app) as http:
        schema = (await http.get("/openapi.json")).json()
        routes = [
            (path, method.upper()) for path, item in schema["paths"].items() for method in item
        ]
        assert len(routes) > 50
        for path, method in routes:
            url = re.sub(r"\{[^}]+\}", "1", path)
            response = await http.request(method, url, json={})
            if (path, method) in PUBLIC:
                assert response.status_code != 401, (method, path)
                continue
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"]["type"] == "LoginRequiredError", (method, path)
        assert (await http.get("/")).status_code == 200


async def _ada_objects(http: httpx.AsyncClient, scripted: ScriptBook) -> dict[str, Any]:
    made = await http.post("/api/characters", json={"card": {"name": "Secret Sam"}})
    character = made.json()["id"]
    assert (await http.put(f"/api/characters/{character}/avatar", content=PNG)).status_code == 200
    for body in ({"name": "s", "api": "scripted", "default": True, "key": SECRET},):
        assert (await http.post("/api/connections", json=body)).status_code == 201
    chat = (await http.post(f"/api/characters/{character}/chats")).json()["id"]
    sent = await http.post(f"/api/chats/{chat}/generate", json={"mode": "send", "text": "hi"})
    assert parse_sse(sent.text)[-1][1]["reason"] == "stop"
    await http.post(f"/api/chats/{chat}/generate", json={"mode": "swipe"})
    messages = (await http.get(f"/api/chats/{chat}")).json()["messages"]
    persona = (await http.post("/api/personas", json={"name": "Ada P"})).json()["id"]
    await http.put(f"/api/personas/{persona}/avatar", content=PNG)
    book = {"entries": {"0": {"uid": 0, "key": ["x"], "content": "lore"}}}
    assert (await http.put("/api/lorebooks/adabook", json={"data": book})).status_code == 200
    preset = await http.put("/api/presets/sampler/adapreset", json={"data": {"temp": 0.5}})
    assert preset.status_code == 200, preset.text
    return {
        "character": character,
        "chat": chat,
        "message": messages[-1]["id"],
        "user_message": messages[-2]["id"],
        "persona": persona,
    }


def _reads(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    c, h, m, p = ids["character"], ids["chat"], ids["message"], ids["persona"]
    return [
        ("GET", f"/api/characters/{c}", None),
        ("PUT", f"/api/characters/{c}", {"card": {"name": "Stolen"}}),
        ("GET", f"/api/characters/{c}/avatar", None),
        ("GET", f"/api/characters/{c}/export", None),
        ("GET", f"/api/characters/{c}/chats", None),
        ("POST", f"/api/characters/{c}/chats", None),
        ("GET", f"/api/chats/{h}", None),
        ("PATCH", f"/api/chats/{h}", {"title": "mine"}),
        ("GET", f"/api/chats/{h}/export", None),
        ("GET", f"/api/chats/{h}/prompt", None),
        ("POST", f"/api/chats/{h}/generate", {"mode": "send", "text": "x"}),
        ("GET", f"/api/messages/{m}", None),
        ("PATCH", f"/api/messages/{m}", {"text": "x"}),
        ("GET", f"/api/messages/{m}/swipes", None),
        ("PUT", f"/api/messages/{m}/swipe", {"index": 0}),
        ("POST", f"/api/messages/{m}/branch", None),
        ("POST", f"/api/messages/{m}/checkpoint", {"name": "x"}),
        ("GET", f"/api/chats/{h}/links", None),
        ("POST", f"/api/chats/{h}/messages", {"text": "x"}),
        ("PUT", f"/api/characters/{c}/tags", {"tags": ["x"]}),
        ("GET", f"/api/regex?character_id={c}", None),
        ("GET", f"/api/regex/export?character_id={c}", None),
        ("PUT", f"/api/regex/characters/{c}", {"scripts": []}),
        ("PUT", f"/api/regex/characters/{c}/allowed", {"allowed": True}),
        ("GET", f"/api/search?q=hi&character_id={c}", None),
        ("GET", f"/api/personas/{p}", None),
        ("PATCH", f"/api/personas/{p}", {"name": "x"}),
        ("GET", f"/api/personas/{p}/avatar", None),
        ("POST", f"/api/personas/{p}/default", None),
        ("GET", "/api/lorebooks/adabook", None),
        ("GET", "/api/lorebooks/adabook/export", None),
        ("GET", "/api/presets/sampler/adapreset", None),
        ("GET", "/api/connections/s", None),
        ("PUT", "/api/connections/s", {"api": "scripted"}),
        ("GET", "/api/connections/s/key", None),
        ("PUT", "/api/connections/s/key", {"key": "sk-bob-steals-it"}),
        ("POST", "/api/connections/s/test", None),
        ("GET", "/api/connections/s/models", None),
        ("POST", "/api/connections/s/default", None),
        ("DELETE", f"/api/messages/{ids['user_message']}", None),
        ("DELETE", f"/api/chats/{h}", None),
        ("DELETE", f"/api/personas/{p}", None),
        ("DELETE", "/api/lorebooks/adabook", None),
        ("DELETE", "/api/connections/s/key", None),
        ("DELETE", "/api/connections/s", None),
        ("DELETE", f"/api/characters/{c}", None),
    ]


async def test_a_user_gets_404_for_every_object_of_another(
    app: Starlette, scripted: ScriptBook
) -> None:
    async with client(app) as ada, client(app) as bob:
        await login(ada, "ada", "correct horse")
        ids = await _ada_objects(ada, scripted)
        await login(bob, "bob", "battery staple")
        for method, url, body in _reads(ids):
            response = await bob.request(method, url, json=body)
            assert response.status_code == 404, (method, url, response.status_code)
        listed = [
            await bob.get(path)
            for path in ("/api/characters", "/api/personas", "/api/lorebooks", "/api/presets")
        ]
        assert not any("Secret Sam" in r.text or "adabook" in r.text for r in listed)
        assert (await bob.get("/api/search", params={"q": "hi"})).json() == []
        assert (await ada.get("/api/search", params={"q": "hi"})).json()
        assert "Ada P" not in listed[1].text and "adapreset" not in listed[3].text
        assert "s" not in [c["name"] for c in (await bob.get("/api/connections")).json()]
        chat = (await ada.get(f"/api/chats/{ids['chat']}")).json()
        assert chat["messages"][0]["text"] == "hi" and chat["title"] != "mine"
        assert chat["messages"][-1]["swipe_count"] == 2
        assert (await ada.get("/api/connections/s/key")).json()["last4"] == SECRET[-4:]
        assert (await ada.get(f"/api/characters/{ids['character']}")).json()["name"] == "Secret Sam"


async def test_state_changes_need_the_csrf_token(app: Starlette) -> None:
    async with client(app) as http:
        await login(http, "ada", "correct horse")
        token = http.headers.pop("X-CSRF-Token")
        requests = [
            ("POST", "/api/characters", {"card": {"name": "Csrf"}}),
            ("POST", "/api/personas", {"name": "Csrf"}),
            ("PATCH", "/api/settings", {"context_size": 4096}),
            ("PUT", "/api/presets/sampler/csrf", {"data": {}}),
            ("POST", "/api/auth/logout", None),
        ]
        for method, url, body in requests:
            refused = await http.request(method, url, json=body)
            assert refused.status_code == 403, (method, url)
            wrong = await http.request(method, url, json=body, headers={"X-CSRF-Token": "x"})
            assert wrong.status_code == 403, (method, url)
        assert [c["name"] for c in (await http.get("/api/characters")).json()] == ["Wren"]
        for method, url, body in requests:
            accepted = await http.request(method, url, json=body, headers={"X-CSRF-Token": token})
            assert accepted.status_code in (200, 201), (method, url, accepted.text)
