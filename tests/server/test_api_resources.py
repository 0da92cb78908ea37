"""Connections, keys, characters, cards, personas, lorebooks, presets and settings."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.applications import Starlette

from pytavern.formats.cards import card_from_dict, read_card, write_card_png
from pytavern.formats.png import solid_png
from pytavern.server.routes._table import ROUTERS
from tests.formats.test_charx import build_charx, icon, v3_card
from tests.server.conftest import SECRET

CARD = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {"name": "Mira", "description": "A cartographer.", "first_mes": "Hello, {{user}}."},
}


async def test_api_types_list_the_registry_with_labels(client: httpx.AsyncClient) -> None:
    types = {t["name"]: t for t in (await client.get("/api/api-types")).json()}
    assert types["local"]["label"] == "Built-in model" and types["local"]["group"] == "local"
    assert types["scripted"]["group_label"] == "Chat Completion"


async def test_connection_lifecycle_and_keys_are_write_only(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/connections", json={"name": "mine", "api": "scripted", "key": SECRET}
    )
    assert created.status_code == 201
    assert created.json()["key"] == {"set": True, "last4": "WXYZ", "source": "stored"}
    again = await client.post("/api/connections", json={"name": "mine", "api": "scripted"})
    assert again.status_code == 400 and "already exists" in again.json()["error"]["message"]
    updated = await client.put("/api/connections/mine", json={"api": "scripted", "model": "m2"})
    assert updated.json()["model"] == "m2" and updated.json()["key"]["set"] is True
    assert (await client.get("/api/connections/mine/key")).json()["last4"] == "WXYZ"
    key = await client.put("/api/connections/mine/key", json={"key": "sk-other-key-0000ABCD"})
    assert key.json()["last4"] == "ABCD"
    assert (await client.delete("/api/connections/mine/key")).json()["set"] is False
    default = await client.post("/api/connections/mine/default")
    assert default.json()["is_default"] is True
    assert (await client.delete("/api/connections/mine")).status_code == 204
    assert (await client.get("/api/connections/mine")).status_code == 404


async def test_unknown_api_type_is_refused_with_the_choices(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/connections", json={"name": "x", "api": "nonsense"})
    assert response.status_code == 400
    assert "scripted" in response.json()["error"]["hint"]


async def test_test_models_and_samplers(client: httpx.AsyncClient) -> None:
    status = (await client.post("/api/connections/s/test")).json()
    assert status["ok"] is True and status["summary"] == "scripted provider ready"
    assert status["samplers"] == ["temperature"]
    models = (await client.get("/api/connections/s/models")).json()
    assert models == [{"id": "scripted-1", "name": None, "context_length": None}]
    assert (await client.get("/api/connections/s/samplers")).json() == {"samplers": ["temperature"]}


async def test_character_crud_avatar_and_card_round_trip(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/characters", json={"card": CARD})).json()
    cid = created["id"]
    assert created["name"] == "Mira" and created["has_avatar"] is False
    card = dict(CARD, data=dict(CARD["data"], name="Mira Vell"))
    assert (await client.put(f"/api/characters/{cid}", json={"card": card})).json()["name"] == (
        "Mira Vell"
    )
    assert (await client.get(f"/api/characters/{cid}/avatar")).status_code == 404
    png = solid_png(8, 8, (200, 10, 10))
    put = await client.put(f"/api/characters/{cid}/avatar", content=png)
    assert put.json()["has_avatar"] is True
    got = await client.get(f"/api/characters/{cid}/avatar")
    assert got.content == png and got.headers["content-type"] == "image/png"
    exported = await client.get(f"/api/characters/{cid}/export")
    assert "attachment" in exported.headers["content-disposition"]
    assert read_card(exported.content, "x.png").name == "Mira Vell"
    imported = (await client.post("/api/characters/import", content=exported.content)).json()
    assert imported["name"] == "Mira Vell" and imported["has_avatar"] is True
    as_json = await client.get(f"/api/characters/{cid}/export", params={"format": "json"})
    assert json.loads(as_json.content) == card
    assert (await client.delete(f"/api/characters/{cid}")).status_code == 204
    names = [c["name"] for c in (await client.get("/api/characters")).json()]
    assert names == ["Mira Vell", "Wren"]


async def test_import_of_json_cards_v1_and_bad_files(client: httpx.AsyncClient) -> None:
    v1 = {"name": "Old", "description": "a V1 card", "first_mes": "Hi"}
    imported = await client.post("/api/characters/import", content=json.dumps(v1).encode())
    assert imported.status_code == 201 and imported.json()["name"] == "Old"
    not_a_card = await client.post("/api/characters/import", content=b"hello")
    assert not_a_card.status_code == 400
    assert not_a_card.json()["error"]["type"] == "FormatError"
    no_chunk = await client.post(
        "/api/characters/import", params={"filename": "cat.png"}, content=solid_png()
    )
    assert no_chunk.status_code == 400 and "cat.png" in no_chunk.json()["error"]["message"]


async def test_import_of_charx_cards_and_zip_bombs(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    avatar = solid_png(5, 5, (9, 9, 9))
    data = build_charx(v3_card(assets=[icon("main", "a/m.png")]), {"a/m.png": avatar})
    imported = await client.post(
        "/api/characters/import", params={"filename": "lyra.charx"}, content=data
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["name"] == "Lyra" and imported.json()["has_avatar"] is True
    got = await client.get(f"/api/characters/{imported.json()['id']}/avatar")
    assert got.content == avatar
    limit = app.state.settings.max_upload_bytes
    bomb = build_charx(v3_card(), {"zeros.bin": bytes(limit + 1)})
    assert len(bomb) < limit // 100
    refused = await client.post(
        "/api/characters/import", params={"filename": "bomb.charx"}, content=bomb
    )
    assert refused.status_code == 400
    assert (
        f"bomb.charx: CharX archive unpacks to more than {limit} bytes"
        in (refused.json()["error"]["message"])
    )


async def test_chat_and_lorebook_files_round_trip(client: httpx.AsyncClient) -> None:
    chat = (await client.post("/api/characters/1/chats")).json()
    await client.post(f"/api/chats/{chat['id']}/generate", json={"mode": "send", "text": "Hi"})
    exported = await client.get(f"/api/chats/{chat['id']}/export")
    assert exported.headers["content-disposition"].endswith('.jsonl"')
    lines = exported.content.decode().splitlines()
    assert json.loads(lines[1])["mes"] == json.loads(lines[1])["mes"] and len(lines) == 4
    imported = await client.post(
        "/api/characters/1/chats/import", params={"filename": "old.jsonl"}, content=exported.content
    )
    assert imported.status_code == 201 and imported.json()["message_count"] == 3
    again = await client.get(f"/api/chats/{imported.json()['id']}/export")
    assert again.content == exported.content
    book = {"entries": {"0": {"uid": 0, "key": ["lantern"], "content": "Bright."}}}
    made = await client.post(
        "/api/lorebooks/import",
        params={"filename": "Lamps.json"},
        content=json.dumps(book).encode(),
    )
    assert made.status_code == 201 and made.json()["name"] == "Lamps"
    out = await client.get("/api/lorebooks/Lamps/export")
    assert json.loads(out.content)["entries"]["0"]["key"] == ["lantern"]


def test_card_writer_is_the_formats_module() -> None:
    card = card_from_dict(CARD)
    assert read_card(write_card_png(card, None), "a.png").name == "Mira"


async def test_personas_lorebooks_presets_and_settings(client: httpx.AsyncClient) -> None:
    persona = (await client.post("/api/personas", json={"name": "Ash"})).json()
    patched = await client.patch(f"/api/personas/{persona['id']}", json={"description": "tall"})
    assert patched.json()["description"] == "tall"
    assert (await client.post(f"/api/personas/{persona['id']}/default")).json()["is_default"]
    assert [p["name"] for p in (await client.get("/api/personas")).json()] == ["Ash"]
    book = {"entries": {"0": {"uid": 0, "key": ["lantern"], "content": "It never goes out."}}}
    saved = (await client.put("/api/lorebooks/Tavern", json={"data": book})).json()
    assert saved["entries"] == 1 and saved["data"] == book
    assert (await client.get("/api/lorebooks")).json()[0]["name"] == "Tavern"
    await client.put("/api/lorebooks/Tavern/active", json={"active": True})
    assert (await client.get("/api/lorebooks")).json()[0]["active"] is True
    assert (await client.delete("/api/lorebooks/Tavern")).status_code == 204
    preset = await client.put("/api/presets/instruct/ChatML", json={"data": {"input": "x"}})
    assert preset.json()["kind"] == "instruct"
    assert (await client.get("/api/presets", params={"kind": "instruct"})).json()[0]["name"] == (
        "ChatML"
    )
    bad = await client.put("/api/presets/weird/x", json={"data": {}})
    assert bad.status_code == 400
    settings = await client.patch(
        "/api/settings", json={"context_size": 8192, "sampling": {"temperature": 0.7}}
    )
    assert settings.json()["context_size"] == 8192
    assert settings.json()["sampling"]["temperature"] == 0.7
    assert (await client.get("/api/settings")).json()["sampling"]["max_tokens"] == 300
    trimmed = await client.patch("/api/settings", json={"trim_sentences": True})
    assert trimmed.json()["trim_sentences"] is True
    unknown = await client.patch("/api/settings", json={"colour": "red"})
    assert unknown.status_code == 400
    bad = await client.patch("/api/settings", json={"context_size": 3})
    assert bad.status_code == 400 and "context_size" in bad.json()["error"]["message"]


async def test_prompt_view_and_token_count(client: httpx.AsyncClient) -> None:
    chat = (await client.post("/api/characters/1/chats")).json()
    before = (await client.get(f"/api/chats/{chat['id']}/prompt")).json()
    assert before == {"available": False, "chat_id": chat["id"]}
    book = {"entries": {"0": {"uid": 0, "key": ["lantern"], "content": "The lantern glows."}}}
    await client.put("/api/lorebooks/Lamps", json={"data": book})
    await client.put("/api/lorebooks/Lamps/active", json={"active": True})
    await client.post(
        f"/api/chats/{chat['id']}/generate", json={"mode": "send", "text": "Is the lantern lit?"}
    )
    view = (await client.get(f"/api/chats/{chat['id']}/prompt")).json()
    assert view["available"] is True and view["total_tokens"] > 0
    assert sum(part["tokens"] for part in view["parts"]) <= view["total_tokens"] + 50
    counted = (await client.post("/api/tokenize", json={"text": "x" * 67})).json()
    assert counted["tokens"] == 20
    assert "last_prompt" not in (await client.get(f"/api/chats/{chat['id']}")).json()["metadata"]
    [fired] = view["lore"]
    assert fired["book"] == "Lamps" and fired["keys"] == ["lantern"]


@pytest.mark.parametrize("path", ["/api/connections", "/api/connections/s", "/api/health"])
async def test_security_headers_on_every_answer(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_rebinding_and_cross_site_requests_are_refused(client: httpx.AsyncClient) -> None:
    rebound = await client.get("/api/connections", headers={"Host": "evil.example"})
    assert rebound.status_code == 403
    cross = await client.post(
        "/api/connections",
        json={"name": "x", "api": "scripted"},
        headers={"Origin": "http://evil.example"},
    )
    assert cross.status_code == 403
    same = await client.post(
        "/api/connections",
        json={"name": "x", "api": "scripted"},
        headers={"Origin": "http://127.0.0.1"},
    )
    assert same.status_code == 201


async def test_no_response_contains_a_stored_key(client: httpx.AsyncClient) -> None:
    await client.put("/api/connections/s/key", json={"key": SECRET})
    chat = (await client.post("/api/characters/1/chats")).json()
    await client.post(f"/api/chats/{chat['id']}/generate", json={"mode": "send", "text": "hi"})
    paths = [
        "/api/connections",
        "/api/connections/s",
        "/api/connections/s/key",
        "/api/settings",
        f"/api/chats/{chat['id']}",
        f"/api/chats/{chat['id']}/prompt",
        "/openapi.json",
        "/",
    ]
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.text and SECRET[:-4] not in response.text, path


@pytest.mark.filterwarnings("error::UserWarning")  # e.g. a body model built late
async def test_openapi_describes_every_route_and_nothing_else(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    described = {
        (path, method.upper()) for path, item in schema["paths"].items() for method in item
    }
    routed = {
        (route.path, method)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods
    }
    assert len(routed) > 50
    assert described == routed
    assert all(path.startswith("/api/") for path, _ in routed)
    for path, item in schema["paths"].items():
        for operation in item.values():
            assert operation.get("description") or operation.get("summary"), path
