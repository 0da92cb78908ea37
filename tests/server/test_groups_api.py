"""Group chats through the HTTP API."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.scripted import Script, ScriptBook
from tests.server.conftest import parse_sse

BOB = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {"name": "Bob", "description": "Bob cooks.", "first_mes": "Soup?"},
}


async def _bob(client: httpx.AsyncClient) -> int:
    response = await client.post(
        "/api/characters/import",
        params={"filename": "Bob.json"},
        content=json.dumps(BOB),
    )
    assert response.status_code == 201, response.text
    bob_id: int = response.json()["id"]
    return bob_id


async def _pair(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    """A new list-order group of Wren (id 1) and Bob."""
    bob = await _bob(client)
    response = await client.post(
        "/api/groups", json={"name": name, "members": [1, bob], "strategy": "list"}
    )
    assert response.status_code == 201, response.text
    group: dict[str, Any] = response.json()
    return group


async def test_create_edit_send_export_import(
    client: httpx.AsyncClient, scripted: ScriptBook
) -> None:
    group = await _pair(client, "Pair")
    bob = group["members"][1]["character_id"]
    assert [m["name"] for m in group["members"]] == ["Wren", "Bob"]
    scripted.scripts += [Script(["W."]), Script(["B."])]
    turn = (await client.post(f"/api/groups/{group['id']}/send", json={"text": "hi"})).json()
    assert [(r["speaker"], r["text"]) for r in turn["replies"]] == [("Wren", "W."), ("Bob", "B.")]
    chat = (await client.get(f"/api/chats/{group['chat_id']}")).json()
    assert chat["group_id"] == group["id"]  # the chat says whose it is
    messages = chat["messages"]
    assert [m["name"] for m in messages[-3:]] == ["User", "Wren", "Bob"]
    renamed = await client.patch(f"/api/chats/{group['chat_id']}", json={"title": "Pair's"})
    assert renamed.json()["group_id"] == group["id"]
    own = await client.post(f"/api/characters/{bob}/chats")
    assert own.json()["group_id"] is None
    changed = await client.patch(
        f"/api/groups/{group['id']}", json={"mute": ["Bob"], "strategy": "pooled"}
    )
    assert changed.json()["members"][1]["muted"] is True
    assert changed.json()["activation_strategy"] == "pooled"
    scripted.scripts.append(Script(["B2."]))
    trig = await client.post(f"/api/groups/{group['id']}/trigger", json={"member": bob})
    assert [r["speaker"] for r in trig.json()["replies"]] == ["Bob"]
    exported = await client.get(f"/api/groups/{group['id']}/export")
    chat = await client.get(f"/api/groups/{group['id']}/export/chat")
    assert exported.json()["disabled_members"] == ["Bob.png"]
    assert chat.text.count("\n") >= 5
    back = await client.post(
        "/api/groups/import", json={"group": exported.json(), "chat": chat.text}
    )
    assert back.status_code == 201, back.text
    assert back.json()["name"] == "Pair (2)"
    again = await client.get(f"/api/groups/{back.json()['id']}/export/chat")
    assert again.content == chat.content
    assert (await client.delete(f"/api/groups/{group['id']}")).status_code == 204
    assert [g["name"] for g in (await client.get("/api/groups")).json()] == ["Pair (2)"]


async def test_bad_requests_get_clear_errors(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/groups/99")
    assert missing.status_code == 404 and "no group" in missing.text
    unknown = await client.post("/api/groups", json={"name": "X", "members": ["Nobody"]})
    assert unknown.status_code == 404
    empty = await client.post("/api/groups", json={"name": "X", "members": []})
    assert empty.status_code == 422


async def test_a_group_turn_streams_member_by_member(
    client: httpx.AsyncClient, scripted: ScriptBook
) -> None:
    group = await _pair(client, "Duo")
    scripted.scripts += [
        Script(["Wren ", "speaks."]),
        Script(["Bob ", "cooks."]),
        Script(["Again."]),
    ]
    url = f"/api/groups/{group['id']}/generate"
    response = await client.post(url, json={"action": "send", "text": "Dinner?"})
    assert response.status_code == 200 and response.headers["x-generation-id"]
    events = parse_sse(response.text)
    said: list[tuple[str, str]] = []
    for kind, data in events:
        if kind == "status" and data.get("speaker"):
            said.append((data["speaker"], ""))
        elif kind == "text":
            said[-1] = (said[-1][0], said[-1][1] + data["text"])
    assert said == [("Wren", "Wren speaks."), ("Bob", "Bob cooks.")]
    assert [kind for kind, _ in events].count("finished") == 1 and events[-1][0] == "finished"
    messages = (await client.get(f"/api/chats/{group['chat_id']}")).json()["messages"]
    assert [(m["name"], m["text"]) for m in messages[-3:]] == [
        ("User", "Dinner?"),
        ("Wren", "Wren speaks."),
        ("Bob", "Bob cooks."),
    ]
    # each member's status names the message its reply follows: the stored replies after
    # it are the turn's (a view showing the events drops them); a swipe follows the one
    # before the message it swipes
    starts = [d["after_id"] for k, d in events if k == "status" and d.get("speaker")]
    assert starts == [messages[-4]["id"], messages[-2]["id"]]
    again = parse_sse((await client.post(url, json={"action": "redo", "mode": "swipe"})).text)
    assert [d.get("speaker") for k, d in again if k == "status"] == ["Bob"]
    assert [d["after_id"] for k, d in again if k == "status"] == [messages[-2]["id"]]
    assert all("prefix" not in d for k, d in again if k == "status")
    # a continue extends the newest reply: its status gives the text it extends
    swiped = (await client.get(f"/api/chats/{group['chat_id']}")).json()["messages"][-1]
    more = parse_sse((await client.post(url, json={"action": "redo", "mode": "continue"})).text)
    status = [d for k, d in more if k == "status" and d.get("speaker")]
    assert [(d["after_id"], d["prefix"]) for d in status] == [(messages[-2]["id"], swiped["text"])]
    unknown = await client.post(url, json={"action": "trigger", "member": "Nobody"})
    assert unknown.status_code in (400, 404) and unknown.json()["error"]["hint"]
