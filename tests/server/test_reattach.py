"""Re-attaching to a generation: event ids, Last-Event-ID, a second listener, the chat's
running generation, the replay time, the per-user cap and shutdown, on a real server."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from pytavern.server import create_app
from pytavern.settings import Settings
from tests.fakes.server import serve
from tests.scripted import Script, ScriptBook

WORDS = [f"w{i} " for i in range(40)]


def _chat(http: httpx.Client) -> int:
    chat_id: int = http.post("/api/characters/1/chats").json()["id"]
    return chat_id


def _frames(lines: list[str]) -> list[dict[str, str]]:
    """SSE lines as frames of fields (id, event, data)."""
    frames: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if not line:
            if current:
                frames.append(current)
            current = {}
        elif ": " in line:
            key, value = line.split(": ", 1)
            current[key] = value
    if current:
        frames.append(current)
    return frames


def _texts(frames: list[dict[str, str]]) -> str:
    import json

    return "".join(json.loads(f["data"])["text"] for f in frames if f.get("event") == "text")


def _read_some(response: httpx.Response, texts: int) -> list[dict[str, str]]:
    """Lines of ``response`` up to the end of its ``texts``-th text frame."""
    lines: list[str] = []
    seen = 0
    for line in response.iter_lines():
        lines.append(line)
        if line.startswith("event: text"):
            seen += 1
        if line == "" and seen >= texts:
            break
    return _frames(lines)


def _wait_idle(app: Starlette) -> None:
    deadline = time.monotonic() + 10
    while app.state.generations.running() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_every_event_has_an_increasing_id(app: Starlette, scripted: ScriptBook) -> None:
    scripted.scripts.append(Script(["a", "b", "c"]))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        chat_id = _chat(http)
        response = http.post(f"/api/chats/{chat_id}/generate", json={"text": "Hi"})
        frames = _frames(response.text.split("\n"))
    assert [int(f["id"]) for f in frames] == list(range(1, len(frames) + 1))
    assert frames[-1]["event"] == "finished"


def test_reconnect_with_last_event_id_has_no_gap_and_no_duplicate(
    app: Starlette, scripted: ScriptBook
) -> None:
    scripted.scripts.append(Script(WORDS, delay=0.02))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        chat_id = _chat(http)
        body = {"mode": "send", "text": "Tell me"}
        with http.stream("POST", f"/api/chats/{chat_id}/generate", json=body) as response:
            generation = response.headers["x-generation-id"]
            before = _read_some(response, 5)
        running = http.get(f"/api/chats/{chat_id}/generation")
        assert running.status_code == 200
        info = running.json()
        assert info["id"] == generation and info["mode"] == "send" and info["running"]
        assert info["text"].startswith(_texts(before))
        listed = http.get("/api/generations", params={"chat_id": chat_id}).json()
        assert [g["id"] for g in listed] == [generation]
        path = f"/api/generations/{generation}/events"
        headers = {"Last-Event-ID": before[-1]["id"]}
        after = _frames(http.get(path, headers=headers).text.split("\n"))
        assert int(after[0]["id"]) == int(before[-1]["id"]) + 1
        assert after[-1]["event"] == "finished"
        last = http.get(f"/api/chats/{chat_id}").json()["messages"][-1]
        assert _texts(before) + _texts(after) == "".join(WORDS)
        assert last["text"] == "".join(WORDS).strip()
        assert last["swipe"]["status"] == "complete"
        # the finished generation is replayable from the start for a while
        replay = _frames(http.get(path).text.split("\n"))
        assert replay == before + after
        assert http.get(f"/api/chats/{chat_id}/generation").status_code == 404
        assert http.get("/api/generations", params={"chat_id": chat_id}).json() == []


def test_a_second_listener_sees_the_same_live_reply(app: Starlette, scripted: ScriptBook) -> None:
    scripted.scripts.append(Script(WORDS, delay=0.01))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        chat_id = _chat(http)
        with http.stream("POST", f"/api/chats/{chat_id}/generate", json={"text": "Go"}) as first:
            generation = first.headers["x-generation-id"]
            results: dict[str, list[dict[str, str]]] = {}

            def second_tab() -> None:
                with httpx.Client(base_url=url, timeout=10) as other:
                    text = other.get(f"/api/generations/{generation}/events").text
                    results["second"] = _frames(text.split("\n"))

            thread = threading.Thread(target=second_tab)
            thread.start()
            results["first"] = _frames(list(first.iter_lines()))
            thread.join(10)
    assert results["first"] == results["second"]
    assert _texts(results["first"]) == "".join(WORDS)


def test_unknown_generation_and_bad_last_event_id(app: Starlette) -> None:
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        paths = http.get("/openapi.json").json()["paths"]
        assert {"/api/generations/{generation_id}/events", "/api/generations"} <= set(paths)
        chat_id = _chat(http)
        assert http.get(f"/api/chats/{chat_id}/generation").status_code == 404
        missing = http.get("/api/generations/nope/events")
        assert missing.status_code == 404 and "stored chat" in missing.json()["error"]["hint"]
        generation = http.post(f"/api/chats/{chat_id}/generate", json={"text": "Hi"})
        path = f"/api/generations/{generation.headers['x-generation-id']}/events"
        bad = http.get(path, headers={"Last-Event-ID": "seven"})
        assert bad.status_code == 400 and "Last-Event-ID" in bad.json()["error"]["message"]


def test_the_replay_time_ends(data_dir: Path, scripted: ScriptBook) -> None:
    app = _app(data_dir, generation_replay_seconds=0.2)
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        chat_id = _chat(http)
        generation = http.post(f"/api/chats/{chat_id}/generate", json={"text": "Hi"})
        path = f"/api/generations/{generation.headers['x-generation-id']}/events"
        assert http.get(path).status_code == 200
        time.sleep(0.4)
        assert http.get(path).status_code == 404


def test_a_user_may_run_only_so_many_generations(data_dir: Path, scripted: ScriptBook) -> None:
    app = _app(data_dir, max_generations_per_user=1)
    scripted.scripts.append(Script(WORDS, delay=0.02))
    with serve(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        chat_id, other = _chat(http), _chat(http)
        with http.stream("POST", f"/api/chats/{chat_id}/generate", json={"text": "A"}) as first:
            _read_some(first, 1)
            refused = http.post(f"/api/chats/{other}/generate", json={"text": "B"})
            assert refused.status_code == 429
            error = refused.json()["error"]
            assert "at most 1" in error["message"]
            assert "PYTAVERN_MAX_GENERATIONS_PER_USER" in error["hint"]
        _wait_idle(app)
        assert http.post(f"/api/chats/{other}/generate", json={"text": "B"}).status_code == 200


async def test_shutdown_stops_running_generations_and_keeps_their_text(
    app: Starlette, scripted: ScriptBook
) -> None:
    scripted.scripts.append(Script(WORDS, delay=0.05))
    engine = app.state.engine
    chat_id = engine.store.create_chat(1).id
    generations = app.state.generations
    generation = generations.start(engine.generate(chat_id, "send", "Hi"), 0, chat_id, "send")
    await generation.first
    await asyncio.sleep(0.2)
    await generations.aclose()
    assert generation.ended
    assert generation.frames[-1].endswith(b'"reason":"cancelled","model":null}\n\n')
    last = engine.store.last_message(chat_id)
    assert last is not None and last.swipe.status == "incomplete"
    assert 0 < len(last.text) < len("".join(WORDS))
    await engine.aclose()


def _app(data_dir: Path, **settings: Any) -> Starlette:
    application = create_app(Settings(data_dir=data_dir, **settings))
    store = application.state.engine.store
    store.save_connection(name="s", api="scripted")
    store.set_default_connection("s")
    return application


def test_the_generation_limit_is_per_user_with_accounts_and_off_for_one_user(
    data_dir: Path,
) -> None:
    assert Settings(data_dir=data_dir).generation_limit() is None
    assert Settings(data_dir=data_dir, accounts=True).generation_limit() == 4
    limited = Settings(data_dir=data_dir, max_generations_per_user=2)
    assert limited.generation_limit() == 2


async def test_only_its_user_sees_or_stops_a_generation(
    data_dir: Path, scripted: ScriptBook
) -> None:
    from pytavern.security.passwords import hash_password
    from tests.server.conftest import login

    app = create_app(Settings(data_dir=data_dir, accounts=True))
    store = app.state.engine.store
    store.create_user("ada", hash_password("correct horse"))
    store.create_user("bob", hash_password("battery staple"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        csrf = {"X-CSRF-Token": await login(http, "ada", "correct horse")}
        body = {"name": "s", "api": "scripted", "default": True}
        assert (await http.post("/api/connections", json=body, headers=csrf)).status_code == 201
        wren = (await http.get("/api/characters")).json()[0]["id"]
        chat = (await http.post(f"/api/characters/{wren}/chats", headers=csrf)).json()["id"]
        answer = await http.post(f"/api/chats/{chat}/generate", json={"text": "Hi"}, headers=csrf)
        path = f"/api/generations/{answer.headers['x-generation-id']}"
        assert (await http.get(f"{path}/events")).text == answer.text
        bob = {"X-CSRF-Token": await login(http, "bob", "battery staple")}
        assert (await http.get(f"{path}/events")).status_code == 404
        assert (await http.post(f"{path}/stop", headers=bob)).status_code == 404
        assert (await http.get("/api/generations", params={"chat_id": chat})).json() == []
    await app.state.engine.aclose()
