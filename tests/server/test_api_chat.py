"""Chats, messages, swipes and generation over SSE, through the HTTP API."""

from __future__ import annotations

import httpx

from tests.scripted import Script, ScriptBook, cut_error
from tests.server.conftest import generate, start_chat


async def test_new_chat_opens_with_the_greeting(client: httpx.AsyncClient) -> None:
    chat = await start_chat(client)
    assert chat["character_id"] == 1
    [greeting] = chat["messages"]
    assert greeting["role"] == "assistant" and "Wren" in greeting["text"]
    listed = (await client.get("/api/characters/1/chats")).json()
    assert [c["id"] for c in listed] == [chat["id"]]


async def test_send_streams_events_and_saves_both_messages(
    client: httpx.AsyncClient, scripted: ScriptBook
) -> None:
    chat = await start_chat(client)
    scripted.scripts.append(Script(["Hi", " <b>there</b>", "!"]))
    events = await generate(client, chat["id"], mode="send", text="Hello")
    kinds = [kind for kind, _ in events]
    assert kinds == ["text", "text", "text", "usage", "finished"]
    assert "".join(d["text"] for k, d in events if k == "text") == "Hi <b>there</b>!"
    finished = events[-1][1]
    assert finished["reason"] == "stop" and finished["model"] == "scripted-1"
    messages = (await client.get(f"/api/chats/{chat['id']}")).json()["messages"]
    assert [(m["role"], m["text"]) for m in messages[1:]] == [
        ("user", "Hello"),
        ("assistant", "Hi <b>there</b>!"),
    ]
    assert messages[-1]["swipe"]["status"] == "complete"


async def test_swipe_regenerate_continue_and_choose_swipe(
    client: httpx.AsyncClient, scripted: ScriptBook
) -> None:
    chat = await start_chat(client)
    scripted.scripts += [Script(["One"]), Script(["Two"]), Script(["Three"]), Script([" more"])]
    await generate(client, chat["id"], mode="send", text="Hi")
    await generate(client, chat["id"], mode="swipe")
    await generate(client, chat["id"], mode="regenerate")
    await generate(client, chat["id"], mode="continue")
    last = (await client.get(f"/api/chats/{chat['id']}")).json()["messages"][-1]
    assert last["swipe_count"] == 3 and last["active_swipe"] == 2
    assert last["text"] == "Three more"
    swipes = (await client.get(f"/api/messages/{last['id']}/swipes")).json()
    assert [s["text"] for s in swipes] == ["One", "Two", "Three more"]
    shown = (await client.put(f"/api/messages/{last['id']}/swipe", json={"index": 0})).json()
    assert shown["text"] == "One" and shown["active_swipe"] == 0
    missing = await client.put(f"/api/messages/{last['id']}/swipe", json={"index": 9})
    assert missing.status_code == 404


async def test_impersonate_streams_but_saves_nothing(
    client: httpx.AsyncClient, scripted: ScriptBook
) -> None:
    chat = await start_chat(client)
    scripted.scripts.append(Script(["I", " walk in."]))
    events = await generate(client, chat["id"], mode="impersonate")
    assert "".join(d["text"] for k, d in events if k == "text") == "I walk in."
    assert len((await client.get(f"/api/chats/{chat['id']}")).json()["messages"]) == 1


async def test_summarize_streams_a_summary_kept_in_the_chat_options(
    client: httpx.AsyncClient, scripted: ScriptBook
) -> None:
    chat = await start_chat(client)
    scripted.scripts.append(Script(["A greeting", " was said."]))
    events = await generate(client, chat["id"], mode="summarize")
    finished = events[-1][1]
    assert finished["summary_saved"] is True and finished["reply"] == "A greeting was said."
    assert len((await client.get(f"/api/chats/{chat['id']}")).json()["messages"]) == 1
    options = (await client.get(f"/api/chats/{chat['id']}/options")).json()
    assert options["summary"] == "A greeting was said." and options["summary_at"] == 1
    edited = await client.patch(f"/api/chats/{chat['id']}/options", json={"summary": "Mine."})
    assert edited.json()["summary"] == "Mine."
    too_long = await client.patch(
        f"/api/chats/{chat['id']}/options", json={"summary": "x" * 100_001}
    )
    assert too_long.status_code == 422


async def test_edit_and_delete_a_message(client: httpx.AsyncClient) -> None:
    chat = await start_chat(client)
    await generate(client, chat["id"], mode="send", text="Hi")
    messages = (await client.get(f"/api/chats/{chat['id']}")).json()["messages"]
    user = messages[1]
    edited = (await client.patch(f"/api/messages/{user['id']}", json={"text": "Hello!"})).json()
    assert edited["text"] == "Hello!"
    assert (await client.delete(f"/api/messages/{messages[2]['id']}")).status_code == 204
    after = (await client.get(f"/api/chats/{chat['id']}")).json()["messages"]
    assert [m["text"] for m in after[1:]] == ["Hello!"]


async def test_rename_and_delete_a_chat(client: httpx.AsyncClient) -> None:
    chat = await start_chat(client)
    renamed = await client.patch(f"/api/chats/{chat['id']}", json={"title": "Rainy night"})
    assert renamed.json()["title"] == "Rainy night"
    assert (await client.delete(f"/api/chats/{chat['id']}")).status_code == 204
    gone = await client.get(f"/api/chats/{chat['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"]["type"] == "NotFoundError"


async def test_an_upstream_error_mid_stream_keeps_the_partial_reply(
    client: httpx.AsyncClient, scripted: ScriptBook
) -> None:
    chat = await start_chat(client)
    scripted.scripts.append(Script(["Half a"], error=cut_error()))
    events = await generate(client, chat["id"], mode="send", text="Hi")
    kinds = [kind for kind, _ in events]
    assert kinds == ["text", "error", "finished"]
    error = events[1][1]
    assert error["kind"] == "StreamInterruptedError" and error["hint"] == "Try again"
    last = (await client.get(f"/api/chats/{chat['id']}")).json()["messages"][-1]
    assert last["text"] == "Half a" and last["swipe"]["status"] == "incomplete"


async def test_errors_before_the_stream_are_json_with_status(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/chats/999/generate", json={"mode": "send", "text": "x"})
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == {"type", "message", "hint", "retryable"}
    chat = await start_chat(client)
    bad_connection = await client.post(
        f"/api/chats/{chat['id']}/generate", json={"mode": "send", "connection": "nope"}
    )
    assert bad_connection.status_code == 404
    assert "Known connections" in bad_connection.json()["error"]["hint"]
    bad_mode = await client.post(f"/api/chats/{chat['id']}/generate", json={"mode": "dance"})
    assert bad_mode.status_code == 422
    assert bad_mode.json()["error"]["type"] == "ValidationError"


async def test_a_mode_that_does_not_fit_the_chat_is_a_400(client: httpx.AsyncClient) -> None:
    chat = await start_chat(client)
    await client.delete(f"/api/messages/{chat['messages'][0]['id']}")
    response = await client.post(f"/api/chats/{chat['id']}/generate", json={"mode": "continue"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "ConfigError"
    assert "no reply to continue" in response.json()["error"]["message"]
    response = await client.post(f"/api/chats/{chat['id']}/generate", json={"mode": "summarize"})
    assert response.status_code == 400
    assert "nothing to summarize" in response.json()["error"]["message"]


async def test_stop_of_an_unknown_generation_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/generations/nope/stop")
    assert response.status_code == 404
