"""Stopping a stream: the Stop endpoint ends it; a client that goes away does not."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.fakes.server import serve
from tests.scripted import Script, ScriptBook


def _chat(http: httpx.Client) -> int:
    chat_id: int = http.post("/api/characters/1/chats").json()["id"]
    return chat_id


def _last(http: httpx.Client, chat_id: int) -> dict[str, Any]:
    last: dict[str, Any] = http.get(f"/api/chats/{chat_id}").json()["messages"][-1]
    return last


def test_stop_ends_the_stream_and_keeps_the_partial_reply(
    app: Starlette, scripted: ScriptBook
) -> None:
    scripted.scripts.append(Script([f"w{i} " for i in range(200)], delay=0.02))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        chat_id = _chat(http)
        body = {"mode": "send", "text": "Tell me a long story"}
        with http.stream("POST", f"/api/chats/{chat_id}/generate", json=body) as response:
            generation = response.headers["x-generation-id"]
            lines = response.iter_lines()
            events: list[str] = []
            for line in lines:
                if line.startswith("event: "):
                    events.append(line[7:])
                if events.count("text") == 3:
                    assert http.post(f"/api/generations/{generation}/stop").json() == {
                        "stopped": True
                    }
                    break
            rest = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
        assert rest[-1]["type"] == "finished" and rest[-1]["reason"] == "cancelled"
        assert len(rest) < 20
        last = _last(http, chat_id)
        assert last["role"] == "assistant" and last["text"].startswith("w0 w1 w2")
        assert last["swipe"]["status"] == "incomplete"
        assert scripted.closed == 1
        assert http.post(f"/api/generations/{generation}/stop").status_code == 404


def test_a_client_that_disconnects_does_not_stop_the_reply(
    app: Starlette, scripted: ScriptBook
) -> None:
    scripted.scripts.append(Script([f"w{i} " for i in range(60)], delay=0.01))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        chat_id = _chat(http)
        body = {"mode": "send", "text": "Go on"}
        with http.stream("POST", f"/api/chats/{chat_id}/generate", json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and "w4" in line:
                    break
        _wait_until_idle(app)
        last = _last(http, chat_id)
        assert last["swipe"]["status"] == "complete"
        assert last["text"] == "".join(f"w{i} " for i in range(60)).strip()


def test_a_client_that_leaves_before_the_first_token_does_not_stop_the_turn(
    app: Starlette, scripted: ScriptBook
) -> None:
    scripted.scripts.append(Script(["late", " but here"], delay=1.0))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        chat_id = _chat(http)
        body = {"mode": "send", "text": "Anyone there?"}
        with pytest.raises(httpx.ReadTimeout), httpx.Client(base_url=url, timeout=0.3) as quick:
            quick.post(f"/api/chats/{chat_id}/generate", json=body)
        _wait_until_idle(app)
        messages = http.get(f"/api/chats/{chat_id}").json()["messages"]
        assert [m["text"] for m in messages[-2:]] == ["Anyone there?", "late but here"]
        assert messages[-1]["swipe"]["status"] == "complete"


def _wait_until_idle(app: Starlette, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    time.sleep(0.05)
    while app.state.generations.running() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app.state.generations.running() == 0
