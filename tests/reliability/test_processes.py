"""Real server processes: the unprotected-listen refusal, no stored key anywhere it should not
be, and two servers sharing one PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.postgres import create_database
from tests.reliability.harness import (
    FAKE_KEY,
    ROOT,
    ServerProcess,
    add_upstream_connection,
    parse_frames,
    slow_upstream,
    text_upstream,
)


def test_serve_on_the_network_without_protection_refuses(data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTAVERN_")}
    env |= {"PYTHONPATH": str(ROOT / "src"), "PYTAVERN_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "pytavern", "serve", "--host", "0.0.0.0", "--no-browser"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    message = done.stderr + done.stdout
    assert "refusing to listen on 0.0.0.0" in message
    for how in ("PYTAVERN_ACCOUNTS=1", "PYTAVERN_BASIC_AUTH", "PYTAVERN_ALLOW", "INSECURE_LISTEN"):
        assert how in message, how
    assert "running at" not in message


def _generate(http: httpx.Client, chat_id: int, text: str) -> list[tuple[str, dict[str, Any]]]:
    body = {"mode": "send", "text": text}
    response = http.post(f"/api/chats/{chat_id}/generate", json=body, timeout=60)
    assert response.status_code == 200, response.text
    events, _rest = parse_frames(response.text)
    return events


def _exercise(http: httpx.Client, upstream: str) -> list[httpx.Response]:
    """Add the key, use it, read and export everything; return every answer."""
    add_upstream_connection(http, upstream)
    answers = [http.put("/api/connections/up/key", json={"key": FAKE_KEY})]
    chat_id = http.post("/api/characters/1/chats").json()["id"]
    for text in ("Hello there", "And again"):
        assert _generate(http, chat_id, text)[-1][1]["reason"] == "stop"
    paths = [
        "/api/connections",
        "/api/connections/up",
        "/api/connections/up/key",
        "/api/connections/up/models",
        "/api/connections/up/samplers",
        "/api/settings",
        f"/api/chats/{chat_id}",
        f"/api/chats/{chat_id}/prompt",
        f"/api/chats/{chat_id}/export",
        "/api/characters/1/export",
        "/api/characters/1/export?format=json",
        "/api/characters",
        "/api/presets",
        "/openapi.json",
        "/",
    ]
    answers += [http.get(path) for path in paths]
    answers.append(http.post("/api/connections/up/test"))
    http.put("/api/connections/up", json={"api": "openai", "url": f"{upstream}/v1", "model": "x"})
    answers.append(http.post("/api/connections/up/test"))
    return answers


def test_no_stored_key_in_answers_logs_or_data_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    log = tmp_path / "server.log"
    server = ServerProcess(data, log)
    with slow_upstream(0.0) as (upstream, plan):
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                answers = _exercise(http, upstream)
        finally:
            server.stop()
    assert any(r["headers"].get("authorization") == f"Bearer {FAKE_KEY}" for r in plan.requests)
    needles = [FAKE_KEY.encode(), FAKE_KEY[3:-4].encode()]
    for answer in answers:
        raw = str(answer.headers).encode() + answer.content
        assert not any(n in raw for n in needles), answer.request.url
    assert log.stat().st_size > 0
    files = [p for p in data.rglob("*") if p.is_file() and p.name != "secrets.json"]
    assert any(p.name.startswith("pytavern.db") for p in files)
    for path in [log, *files]:
        content = path.read_bytes()
        assert not any(n in content for n in needles), path
    assert FAKE_KEY.encode() not in (data / "secrets.json").read_bytes()


def test_two_servers_share_one_postgresql_database(tmp_path: Path, postgres_url: str) -> None:
    url = create_database(postgres_url, "shared_servers")
    env = {"PYTAVERN_DATABASE_URL": url}
    first = ServerProcess(tmp_path / "one", tmp_path / "one.log", env)
    second = ServerProcess(tmp_path / "two", tmp_path / "two.log", env)
    with text_upstream(0.0) as (upstream, _plan):
        first.start()
        second.start()
        try:
            with (
                httpx.Client(base_url=first.url, timeout=30) as one,
                httpx.Client(base_url=second.url, timeout=30) as two,
            ):
                add_upstream_connection(one, upstream, api="vllm")
                two.put("/api/connections/up/key", json={"key": FAKE_KEY})
                chat_id = one.post("/api/characters/1/chats").json()["id"]
                assert _generate(one, chat_id, "From the first")[-1][1]["reason"] == "stop"
                seen = two.get(f"/api/chats/{chat_id}").json()["messages"]
                assert [m["role"] for m in seen][-2:] == ["user", "assistant"]
                assert seen[-2]["text"] == "From the first"
                assert _generate(two, chat_id, "And the second")[-1][1]["reason"] == "stop"
                again = one.get(f"/api/chats/{chat_id}").json()["messages"]
                texts = [m["text"] for m in again]
                assert texts[-4] == "From the first" and texts[-2] == "And the second"
                assert again[-1]["swipe"]["status"] == "complete"
        finally:
            first.stop()
            second.stop()
    assert not (tmp_path / "one" / "pytavern.db").exists()
