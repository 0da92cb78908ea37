"""The REST routes of regex scripts, search, branches and checkpoints; the chat shows
display-only scripts' output in ``display`` while ``text`` stays as stored."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from starlette.applications import Starlette

from pytavern.server import create_app
from pytavern.settings import Settings
from tests.scripted import Script, ScriptBook
from tests.server.conftest import generate, start_chat

SCRIPT = {
    "id": "d1",
    "scriptName": "Shout",
    "findRegex": "/quiet/g",
    "replaceString": "LOUD",
    "placement": [2],
    "markdownOnly": True,
}


async def test_import_list_export_and_display(
    client: httpx.AsyncClient, scripted: ScriptBook
) -> None:
    made = await client.post("/api/regex/import", content=json.dumps(SCRIPT).encode())
    assert made.status_code == 201 and made.json()[0]["scriptName"] == "Shout"
    listed = (await client.get("/api/regex")).json()
    assert [s["id"] for s in listed["scripts"]] == ["d1"]
    assert listed["scripts"][0]["scope"] == "global"
    exported = await client.get("/api/regex/export")
    assert json.loads(exported.content)["findRegex"] == "/quiet/g"
    chat = await start_chat(client)
    scripted.scripts.append(Script(["a quiet reply"]))
    await generate(client, chat["id"], mode="send", text="hello")
    last = (await client.get(f"/api/chats/{chat['id']}")).json()["messages"][-1]
    assert last["text"] == "a quiet reply" and last["display"] == "a LOUD reply"


async def test_bad_file_and_live_test(client: httpx.AsyncClient) -> None:
    bad = await client.post("/api/regex/import", content=b"{nope")
    assert bad.status_code == 400 and bad.json()["error"]["hint"]
    tried = await client.post(
        "/api/regex/test",
        json={
            "script": SCRIPT | {"findRegex": "/{{char}}/", "substituteRegex": 1},
            "text": "Wren!",
            "character_id": 1,
        },
    )
    assert tried.status_code == 200
    assert tried.json()["output"] == "LOUD!"


async def test_replace_global_and_allow_character(client: httpx.AsyncClient) -> None:
    put = await client.put("/api/regex/global", json={"scripts": [SCRIPT, SCRIPT | {"id": "d2"}]})
    assert [s["id"] for s in put.json()] == ["d1", "d2"]
    scoped = await client.put("/api/regex/characters/1", json={"scripts": [SCRIPT | {"id": "c1"}]})
    assert [(s["scope"], s["allowed"]) for s in scoped.json()["scripts"]][-1] == (
        "character",
        False,
    )
    allowed = await client.put("/api/regex/characters/1/allowed", json={"allowed": True})
    assert allowed.json()["allowed_characters"] == [1]
    missing = await client.put("/api/regex/preset", json={"name": "nope"})
    assert missing.status_code == 404


async def test_search_route(client: httpx.AsyncClient, scripted: ScriptBook) -> None:
    chat = await start_chat(client)
    scripted.scripts.append(Script(["the aurora shimmers"]))
    await generate(client, chat["id"], mode="send", text="look up")
    hits = (await client.get("/api/search", params={"q": "Aurora"})).json()
    assert [(h["chat_id"], h["role"]) for h in hits] == [(chat["id"], "assistant")]
    assert hits[0]["snippet"] == "the aurora shimmers"
    none = (await client.get("/api/search", params={"q": "aurora", "character_id": 1})).json()
    assert len(none) == 1
    missing = await client.get("/api/search", params={"q": "aurora", "character_id": 999})
    assert missing.status_code == 404


async def test_branch_and_checkpoint_routes(client: httpx.AsyncClient) -> None:
    chat = await start_chat(client)
    greeting = chat["messages"][0]
    made = await client.post(f"/api/messages/{greeting['id']}/branch")
    assert made.status_code == 201 and made.json()["metadata"]["main_chat"] == chat["title"]
    point = await client.post(f"/api/messages/{greeting['id']}/checkpoint", json={"name": "cp"})
    assert point.status_code == 201 and point.json()["title"].startswith("cp - ")
    links = (await client.get(f"/api/chats/{chat['id']}/links")).json()
    assert [c["kind"] for c in links["children"]] == ["branch", "checkpoint"]
    shown = (await client.get(f"/api/chats/{chat['id']}")).json()["messages"][0]
    assert (
        shown["branches"] == [made.json()["title"]] and shown["checkpoint"] == point.json()["title"]
    )
    assert (await client.post("/api/messages/999/branch")).status_code == 404


async def test_quick_reply_routes(client: httpx.AsyncClient) -> None:
    from tests.engine.test_quick_replies import SET_V2

    made = await client.post("/api/quick-replies/import", content=json.dumps(SET_V2).encode())
    assert made.status_code == 201 and made.json() == {"name": "Moves", "replies": 5}
    assert (await client.get("/api/quick-replies")).json()[0]["active"] is True
    chat = await start_chat(client)
    pressed = await client.post(
        f"/api/chats/{chat['id']}/quick-reply", json={"set": "Moves", "id": 3, "input": "x"}
    )
    assert pressed.json()["steps"] == [
        {"command": "send", "text": "x, User? | ok"},
        {"command": "trigger", "text": ""},
    ]
    refused = await client.post(
        f"/api/chats/{chat['id']}/quick-reply", json={"set": "Moves", "id": 4}
    )
    assert refused.status_code == 400 and "/run" in refused.json()["error"]["message"]
    added = await client.post(f"/api/chats/{chat['id']}/messages", json={"text": "hi"})
    assert added.status_code == 201 and added.json()["role"] == "user"
    exported = await client.get("/api/quick-replies/Moves/export")
    assert json.loads(exported.content)["customField"] == [1, 2]
    assert (
        await client.put("/api/quick-replies/Moves/active", json={"active": False})
    ).status_code == 200
    assert (await client.delete("/api/quick-replies/Moves")).status_code == 204
    assert (await client.get("/api/quick-replies")).json() == []


async def test_tag_routes(client: httpx.AsyncClient) -> None:
    put = await client.put("/api/characters/1/tags", json={"tags": ["Cozy", " cozy ", "", "Inn"]})
    assert put.status_code == 200 and put.json()["tags"] == ["Cozy", "Inn"]
    assert (await client.get("/api/tags")).json() == [
        {"tag": "Cozy", "characters": 1},
        {"tag": "Inn", "characters": 1},
    ]
    assert [
        c["id"] for c in (await client.get("/api/characters", params={"tag": "inn"})).json()
    ] == [1]
    assert (await client.get("/api/characters", params={"tag": "nope"})).json() == []
    too_long = await client.put("/api/characters/1/tags", json={"tags": ["x" * 101]})
    assert too_long.status_code == 400


async def test_a_reply_cut_by_a_killed_server_is_found_after_the_next_start(
    data_dir: Path, app: Starlette, client: httpx.AsyncClient
) -> None:
    chat = await start_chat(client)
    store = app.state.engine.store
    # what a server killed mid-stream leaves: the first text, incomplete, no finish_reason
    store.append_message(
        chat["id"], role="assistant", name="Seraphina", text="the borealis", status="incomplete"
    )
    assert (await client.get("/api/search", params={"q": "borealis"})).json() == []
    restarted = create_app(Settings(data_dir=data_dir))
    async with restarted.router.lifespan_context(restarted):
        assert await restarted.state.interrupted == 1
        transport = httpx.ASGITransport(app=restarted)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            hits = (await http.get("/api/search", params={"q": "borealis"})).json()
            shown = (await http.get(f"/api/chats/{chat['id']}")).json()["messages"][-1]
    assert [h["snippet"] for h in hits] == ["the borealis"]
    assert shown["swipe"]["status"] == "incomplete"
    assert shown["swipe"]["finish_reason"] == "interrupted"


async def test_a_user_input_script_changes_what_the_web_ui_sends(
    client: httpx.AsyncClient, scripted: ScriptBook
) -> None:
    """SillyTavern's "User Input" placement runs on a message sent through the generate
    route, as on one sent through the Python API: stored and sent changed."""
    script = {**SCRIPT, "id": "u1", "findRegex": "/teh/g", "replaceString": "the"}
    script |= {"placement": [1], "markdownOnly": False}
    made = await client.post("/api/regex/import", content=json.dumps(script).encode())
    assert made.status_code == 201
    chat = await start_chat(client)
    scripted.scripts.append(Script(["teh end"]))
    await generate(client, chat["id"], mode="send", text="teh start")
    messages = (await client.get(f"/api/chats/{chat['id']}")).json()["messages"]
    assert [m["text"] for m in messages[-2:]] == ["the start", "teh end"]
    assert scripted.requests[-1].messages[-1].content == "the start"
