"""Accounts (login sessions, CSRF, per-user data), basic auth and the IP allow list."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from pytavern.server import create_app
from pytavern.settings import Settings
from tests.server.conftest import login


async def test_accounts_need_a_login_and_keep_users_apart(
    accounts_app: httpx.AsyncClient,
) -> None:
    http = accounts_app
    assert (await http.get("/api/auth/me")).json() == {
        "accounts": True,
        "user": None,
        "csrf": None,
    }
    refused = await http.get("/api/characters")
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "LoginRequiredError"
    wrong = await http.post("/api/auth/login", json={"name": "ada", "password": "nope"})
    assert wrong.status_code == 401
    csrf = await login(http, "ada", "correct horse")
    assert [c["name"] for c in (await http.get("/api/characters")).json()] == ["Wren"]
    no_token = await http.post("/api/characters", json={"card": {"name": "Ada's"}})
    assert no_token.status_code == 403
    made = await http.post(
        "/api/characters", json={"card": {"name": "Ada's"}}, headers={"X-CSRF-Token": csrf}
    )
    assert made.status_code == 201
    await http.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert (await http.get("/api/characters")).status_code == 401
    await login(http, "bob", "battery staple")
    names = [c["name"] for c in (await http.get("/api/characters")).json()]
    assert names == ["Wren"]
    assert (await http.get(f"/api/characters/{made.json()['id']}")).status_code == 404


async def test_failed_logins_are_rate_limited(accounts_app: httpx.AsyncClient) -> None:
    for _ in range(5):
        response = await accounts_app.post("/api/auth/login", json={"name": "x", "password": "y"})
        assert response.status_code == 401
    limited = await accounts_app.post(
        "/api/auth/login", json={"name": "ada", "password": "correct horse"}
    )
    assert limited.status_code == 429 and "Wait" in limited.json()["error"]["hint"]


async def test_basic_auth_guards_everything(data_dir: Path) -> None:
    app = create_app(Settings(data_dir=data_dir, basic_auth="me:s3cret pass"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        for path in ("/", "/api/characters"):
            refused = await http.get(path)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Basic")
        good = base64.b64encode(b"me:s3cret pass").decode()
        ok = await http.get("/api/characters", headers={"Authorization": f"Basic {good}"})
        assert ok.status_code == 200
        bad = base64.b64encode(b"me:wrong").decode()
        assert (
            await http.get("/api/characters", headers={"Authorization": f"Basic {bad}"})
        ).status_code == 401
    await app.state.engine.aclose()


async def test_allow_list_refuses_other_addresses(data_dir: Path) -> None:
    app = create_app(Settings(data_dir=data_dir, allow=["10.0.0.0/8"]))
    for client, status in ((("192.168.1.5", 1), 403), (("10.1.2.3", 1), 200)):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            assert (await http.get("/api/health")).status_code == status
    await app.state.engine.aclose()
