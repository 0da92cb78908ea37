"""Stopping a stream: the Stop endpoint and a client that goes away, on a real server."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.fakes.server import serve
from tests.scripted import Script, ScriptBook


def _chat(http: httpx.Client) -> int:
    chat_id: int = http.post("/api/characters/1/chats").json()["id"]
    return chat_id


def _last(http: httpx.Client, chat_id: int) -> dict[str, Any]:
    last: dict[str, Any] = http.get(f"/api/chats/{chat_id}").json()["messages"][-1]
    return last


def test_stop_ends_the_stream_and_keeps_the_partial_reply(
    app: FastAPI, scripted: ScriptBook
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


def test_a_client_that_disconnects_stops_the_upstream(app: FastAPI, scripted: ScriptBook) -> None:
    scripted.scripts.append(Script([f"w{i} " for i in range(500)], delay=0.01))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        chat_id = _chat(http)
        body = {"mode": "send", "text": "Go on"}
        with http.stream("POST", f"/api/chats/{chat_id}/generate", json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and "w4" in line:
                    break
        deadline = time.monotonic() + 5
        while scripted.closed == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert scripted.closed == 1
        time.sleep(0.1)
        last = _last(http, chat_id)
        assert last["swipe"]["status"] == "incomplete"
        assert last["text"].startswith("w0 w1 w2 w3 w4")
        assert len(last["text"].split()) < 400
        assert len(app.state.generations) == 0


def test_a_client_that_leaves_before_the_first_token_stops_the_turn(
    app: FastAPI, scripted: ScriptBook
) -> None:
    scripted.scripts.append(Script(["late"], delay=8.0))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        chat_id = _chat(http)
        body = {"mode": "send", "text": "Anyone there?"}
        with pytest.raises(httpx.ReadTimeout), httpx.Client(base_url=url, timeout=0.5) as quick:
            quick.post(f"/api/chats/{chat_id}/generate", json=body)
        deadline = time.monotonic() + 2
        while scripted.closed == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert scripted.closed == 1
        assert _last(http, chat_id)["text"] == "Anyone there?"
