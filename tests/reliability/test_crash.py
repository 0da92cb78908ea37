"""Crash test: SIGKILL a real server mid-generation 50 times; nothing acknowledged is lost.

Each round starts ``python -m pytavern serve`` on the same data directory, sends one
message through the HTTP API against a slow fake OpenAI-compatible (vLLM) upstream, and
kills the server at a random moment (before, during or after the stream). After each kill
the SQLite file must pass ``PRAGMA integrity_check``; after each restart every message the
client saw acknowledged must be in the chat: the user's message once the stream had started
(kept before: committed, or noted in the turn journal the restart commits), a reply the
client saw finish, complete and whole, and a reply the client saw text of, present and
marked incomplete with a prefix of the full reply.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.fakes._common import REPLY
from tests.reliability.harness import (
    ServerProcess,
    add_upstream_connection,
    parse_frames,
    text_upstream,
)

ROUNDS = int(os.environ.get("PYTAVERN_CRASH_ROUNDS", "50"))
TOKEN_DELAY = 0.08
FULL = "".join(REPLY)


@dataclass
class Round:
    """What the client of one round saw before the kill."""

    text: str
    acknowledged: bool = False
    seen: str = ""
    finished: str | None = None
    events: list[str] = field(default_factory=list)
    first_text: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


def _generate(url: str, chat_id: int, seen: Round) -> None:
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            body = {"mode": "send", "text": seen.text}
            with http.stream("POST", f"/api/chats/{chat_id}/generate", json=body) as response:
                if response.status_code != 200:
                    return
                seen.acknowledged = True
                rest = ""
                for chunk in response.iter_text():
                    events, rest = parse_frames(rest + chunk)
                    for kind, data in events:
                        seen.events.append(kind)
                        if kind == "text":
                            seen.seen += data["text"]
                            seen.first_text.set()
                        elif kind == "finished":
                            seen.finished = data["reason"]
                            seen.done.set()
    except httpx.HTTPError:
        pass
    finally:
        seen.first_text.set()
        seen.done.set()


def _wait_for_kill(rng: random.Random, seen: Round) -> None:
    """Sleep to a random moment: soon after the request, mid-stream, or after the end."""
    phase = rng.choice(("start", "stream", "stream", "end"))
    if phase == "stream":
        seen.first_text.wait(10)
    elif phase == "end":
        seen.done.wait(10)
    time.sleep(rng.uniform(0.0, 0.4 if phase == "start" else 0.3))


def _integrity(database: Path) -> str:
    connection = sqlite3.connect(database)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def _check(messages: list[dict[str, Any]], rounds: list[Round]) -> None:
    by_text = {m["text"]: i for i, m in enumerate(messages) if m["role"] == "user"}
    for index, seen in enumerate(rounds):
        if not seen.acknowledged:
            continue
        assert seen.text in by_text, f"round {index}: acknowledged user message lost"
        position = by_text[seen.text]
        reply = messages[position + 1] if position + 1 < len(messages) else None
        if seen.finished == "stop":
            assert reply is not None, f"round {index}: finished reply lost"
            assert FULL.startswith(reply["text"]) and len(reply["text"]) >= len(FULL) - 1, index
            assert reply["swipe"]["status"] == "complete", index
        elif seen.seen:
            assert reply is not None and reply["role"] == "assistant", f"round {index}: cut reply"
            assert reply["text"] and FULL.startswith(reply["text"]), (index, reply["text"])
            if len(reply["text"]) < len(FULL) - 1:
                assert reply["swipe"]["status"] == "incomplete", (index, reply)


def test_sigkill_during_generation_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(7)
    data = tmp_path / "data"
    server = ServerProcess(data, tmp_path / "server.log")
    rounds: list[Round] = []
    started = time.monotonic()
    with text_upstream(TOKEN_DELAY) as (upstream, _plan):
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as http:
            add_upstream_connection(http, upstream, {"max_retries": 0}, api="vllm")
            chat_id = http.post("/api/characters/1/chats").json()["id"]
        for index in range(ROUNDS):
            if index:
                server.start()
                with httpx.Client(base_url=server.url, timeout=10) as http:
                    chat = http.get(f"/api/chats/{chat_id}", params={"limit": 5000}).json()
                _check(chat["messages"], rounds)
            seen = Round(text=f"round {index}: tell me about the road")
            rounds.append(seen)
            client = threading.Thread(target=_generate, args=(server.url, chat_id, seen))
            client.start()
            _wait_for_kill(rng, seen)
            server.kill()
            client.join(timeout=10)
            assert _integrity(data / "pytavern.db") == "ok", f"round {index}"
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as http:
            chat = http.get(f"/api/chats/{chat_id}", params={"limit": 5000}).json()
        server.stop()
    _check(chat["messages"], rounds)
    outcomes = {("finished" if r.finished else "cut" if r.seen else "early") for r in rounds}
    print(sorted(outcomes), [len(r.seen) for r in rounds])
    assert outcomes == {"finished", "cut", "early"}, "the kills should hit every phase"
    print(f"{ROUNDS} kills in {time.monotonic() - started:.0f} s")
