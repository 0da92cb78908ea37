"""Replies that survive the client, on real server processes and a slow fake upstream: a
client that leaves, a reconnect with Last-Event-ID (also to another process on the same
PostgreSQL), a stop from another process, and a server shut down mid-reply."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.fakes._common import REPLY
from tests.postgres import create_database
from tests.reliability.harness import ServerProcess, add_upstream_connection, text_upstream

FULL = "".join(REPLY)
TOKEN_DELAY = 0.05


def _read_texts(lines: Iterator[str], count: int) -> tuple[str, str]:
    """Read up to the end of the ``count``-th text event: (its id, the text so far)."""
    text, seen, event_id, kind = "", 0, "", ""
    for line in lines:
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind == "text":
            text += json.loads(line[6:])["text"]
            seen += 1
        elif line == "" and seen >= count:
            return event_id, text
    raise AssertionError("the stream ended early")


def _texts_after(http: httpx.Client, generation: str, last_id: str) -> list[dict[str, Any]]:
    response = http.get(
        f"/api/generations/{generation}/events", headers={"Last-Event-ID": last_id}, timeout=30
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = []
    for block in response.text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            events.append({"id": int(fields["id"]), **json.loads(fields["data"])})
    return events


def _last_message(http: httpx.Client, chat_id: int, *, until: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        last: dict[str, Any] = http.get(f"/api/chats/{chat_id}").json()["messages"][-1]
        if last["role"] == "assistant" and last["swipe"]["status"] == until:
            return last
        assert time.monotonic() < deadline, last
        time.sleep(0.1)


def _start(http: httpx.Client, chat_id: int, text: str) -> httpx.Response:
    request = http.build_request(
        "POST", f"/api/chats/{chat_id}/generate", json={"mode": "send", "text": text}
    )
    response = http.send(request, stream=True)
    assert response.status_code == 200
    return response


def test_a_client_that_leaves_after_the_first_text_gets_the_whole_reply(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log")
    with text_upstream(TOKEN_DELAY) as (upstream, _plan):
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                add_upstream_connection(http, upstream, api="vllm")
                chat_id = http.post("/api/characters/1/chats").json()["id"]
                response = _start(http, chat_id, "Hello")
                _read_texts(response.iter_lines(), 1)
                response.close()  # the socket goes; the generation does not
                last = _last_message(http, chat_id, until="complete")
                assert last["text"] == FULL.strip()
        finally:
            server.stop()


def test_shutdown_mid_reply_keeps_the_text_marked_incomplete(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log")
    with text_upstream(TOKEN_DELAY) as (upstream, _plan):
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                add_upstream_connection(http, upstream, api="vllm")
                chat_id = http.post("/api/characters/1/chats").json()["id"]
                response = _start(http, chat_id, "Hello")
                lines = response.iter_lines()
                _read_texts(lines, 3)
                server.stop()  # SIGTERM while the client still listens
                # 143 = 128 + SIGTERM: the server unwinds (pid file, generations closed), then
                # exits as a process ended by that signal would
                assert server.process is not None and server.process.returncode in (0, -15, 143)
                rest = "\n".join(lines)
                assert '"reason":"cancelled"' in rest
        finally:
            server.stop()
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                last = _last_message(http, chat_id, until="incomplete")
                assert FULL.startswith(last["text"]) and 0 < len(last["text"]) < len(FULL)
        finally:
            server.stop()


def test_reconnect_to_another_process_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    url = create_database(postgres_url, "resume_servers")
    env = {"PYTAVERN_DATABASE_URL": url}
    first = ServerProcess(tmp_path / "one", tmp_path / "one.log", env)
    second = ServerProcess(tmp_path / "two", tmp_path / "two.log", env)
    with text_upstream(TOKEN_DELAY) as (upstream, _plan):
        first.start()
        second.start()
        try:
            with (
                httpx.Client(base_url=first.url, timeout=30) as one,
                httpx.Client(base_url=second.url, timeout=30) as two,
            ):
                add_upstream_connection(one, upstream, api="vllm")
                chat_id = one.post("/api/characters/1/chats").json()["id"]
                response = _start(one, chat_id, "From the first")
                generation = response.headers["x-generation-id"]
                last_id, before = _read_texts(response.iter_lines(), 4)
                response.close()
                running = two.get(f"/api/chats/{chat_id}/generation")
                assert running.status_code == 200, running.text
                assert running.json()["id"] == generation and running.json()["mode"] == "send"
                events = _texts_after(two, generation, last_id)
                assert events[0]["id"] == int(last_id) + 1
                assert events[-1]["type"] == "finished" and events[-1]["reason"] == "stop"
                after = "".join(e["text"] for e in events if e["type"] == "text")
                stored = _last_message(two, chat_id, until="complete")
                assert before + after == FULL and stored["text"] == FULL.strip()

                response = _start(one, chat_id, "Stop me from the second")
                stopped = response.headers["x-generation-id"]
                lines = response.iter_lines()
                _read_texts(lines, 2)
                answer = two.post(f"/api/generations/{stopped}/stop")
                assert answer.json() == {"stopped": True}
                assert '"reason":"cancelled"' in "\n".join(lines)
                kept = _last_message(one, chat_id, until="incomplete")
                assert FULL.startswith(kept["text"]) and len(kept["text"]) < len(FULL)
                assert two.post(f"/api/generations/{stopped}/stop").status_code == 404
        finally:
            first.stop()
            second.stop()
