"""``/api/backups`` (last backup, back up now) and ``/api/export/sillytavern.zip``."""

from __future__ import annotations

import io
import zipfile

import httpx

from tests.server.conftest import login


async def test_back_up_now_and_see_the_last_backup(client: httpx.AsyncClient) -> None:
    before = (await client.get("/api/backups")).json()
    assert before["allowed"] and before["latest"] is None and before["keep"] == 7
    made = await client.post("/api/backups")
    assert made.status_code == 201, made.text
    assert "/" not in made.json()["path"]  # the file's name, not where the server keeps it
    after = (await client.get("/api/backups")).json()
    assert after["latest"]["path"] == made.json()["path"] and after["count"] == 1


async def test_download_everything_is_a_sillytavern_folder(client: httpx.AsyncClient) -> None:
    chat = await client.post("/api/characters/1/chats")
    assert chat.status_code == 201
    response = await client.get("/api/export/sillytavern.zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "default-user/characters/Wren.png" in names
    assert any(n.startswith("default-user/chats/Wren/") and n.endswith(".jsonl") for n in names)
    assert "default-user/settings.json" in names


async def test_only_an_admin_backs_up_the_whole_database(
    accounts_app: httpx.AsyncClient,
) -> None:
    accounts = accounts_app
    assert (await accounts.get("/api/backups")).status_code == 401
    csrf = await login(accounts, "bob", "battery staple")
    assert (await accounts.get("/api/backups")).json()["allowed"] is False
    refused = await accounts.post("/api/backups", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    mine = await accounts.get("/api/export/sillytavern.zip")
    assert mine.status_code == 200
    csrf = await login(accounts, "ada", "correct horse")
    made = await accounts.post("/api/backups", headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
