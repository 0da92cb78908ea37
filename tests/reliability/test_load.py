"""Load test: 200 concurrent streamed chats for 60 seconds through a real server process,
against the fake OpenAI upstream injecting 429s, 500s, cut streams and stalls.

Holds: every request ends (an SSE stream ending in ``finished``, or an error answer), none
hangs; every user message of a started stream is in the store; every reply that finished is
stored complete; the server's RSS at the end is within ``RSS_BOUND`` of its RSS after warm-up.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.fakes.server import FaultPlan
from tests.reliability.harness import (
    ServerProcess,
    add_upstream_connection,
    parse_frames,
    slow_upstream,
)

WORKERS = 200
SECONDS = float(os.environ.get("PYTAVERN_LOAD_SECONDS", "60"))
WARM_UP = 10.0
RSS_BOUND = 50 * 1024 * 1024
FAULTS = ("429", "500", "cut", "stall", "stall_mid")
OPTIONS = {
    "max_retries": 1,
    "retry_base_delay": 0.1,
    "retry_max_delay": 0.5,
    "timeout_first_byte": 5.0,
    "timeout_gap": 3.0,
}


class RandomFaults(FaultPlan):
    """A fault for about one request in four, picked at random."""

    def take(self) -> str | None:
        """A random fault, or none."""
        return random.choice(FAULTS) if random.random() < 0.25 else None


@dataclass
class Sent:
    """One request and how it ended."""

    text: str
    status: int = 0
    ended: str = ""
    reply: str = ""
    error: str = ""


@dataclass
class Worker:
    """One chat and everything sent in it."""

    chat_id: int
    sent: list[Sent] = field(default_factory=list)


async def _one(http: httpx.AsyncClient, worker: Worker, sent: Sent) -> None:
    body = {"mode": "send", "text": sent.text}
    async with http.stream("POST", f"/api/chats/{worker.chat_id}/generate", json=body) as answer:
        sent.status = answer.status_code
        if answer.status_code != 200:
            await answer.aread()
            sent.ended = "http-error"
            return
        rest = ""
        async for chunk in answer.aiter_text():
            events, rest = parse_frames(rest + chunk)
            for kind, data in events:
                if kind == "text":
                    sent.reply += data["text"]
                elif kind == "error":
                    sent.error = str(data["message"])
                elif kind == "finished":
                    sent.ended = str(data["reason"])


async def _work(http: httpx.AsyncClient, worker: Worker, deadline: float) -> None:
    count = 0
    while time.monotonic() < deadline:
        sent = Sent(text=f"chat {worker.chat_id} message {count} about lanterns")
        worker.sent.append(sent)
        count += 1
        try:
            await _one(http, worker, sent)
        except httpx.HTTPError as exc:
            sent.ended = f"lost: {type(exc).__name__}"


async def _load(server: ServerProcess, workers: list[Worker]) -> tuple[int, int]:
    # Idle connections expire before uvicorn's 5 s keep-alive closes them (no reuse race).
    size = WORKERS + 10
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=2)
    timeout = httpx.Timeout(30.0)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=timeout) as http:
        start = time.monotonic()
        tasks = [asyncio.create_task(_work(http, w, start + SECONDS)) for w in workers]
        await asyncio.sleep(min(WARM_UP, SECONDS / 2))
        warm = server.rss_bytes()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=SECONDS + 60)
        return warm, server.rss_bytes()


def _check_store(http: httpx.Client, workers: list[Worker]) -> None:
    for worker in workers:
        messages = http.get(f"/api/chats/{worker.chat_id}", params={"limit": 5000}).json()
        stored = messages["messages"]
        users = {m["text"]: i for i, m in enumerate(stored) if m["role"] == "user"}
        for sent in worker.sent:
            if sent.status != 200:
                continue
            assert sent.text in users, f"user message lost: {sent.text}"
            if sent.ended == "stop":
                reply = stored[users[sent.text] + 1]
                assert reply["text"] == f"Echo: {sent.text}", reply
                assert reply["swipe"]["status"] == "complete"


@pytest.mark.load
def test_200_concurrent_chats_with_faults_lose_nothing(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log")
    with slow_upstream(0.02, stall_seconds=6.0) as (upstream, plan):
        faults = RandomFaults(stall_seconds=6.0)
        faults.requests = plan.requests
        plan.take = faults.take  # type: ignore[method-assign]
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                add_upstream_connection(http, upstream, OPTIONS)
                ids = [http.post("/api/characters/1/chats").json()["id"] for _ in range(WORKERS)]
                warm_up = http.post(f"/api/chats/{ids[0]}/generate", json={"text": "warm"})
                assert warm_up.status_code == 200
                workers = [Worker(chat_id) for chat_id in ids]
                warm, end = asyncio.run(_load(server, workers))
                _check_store(http, workers)
        finally:
            server.stop()
    sent = [s for w in workers for s in w.sent]
    lost = [s for s in sent if not s.ended or s.ended.startswith("lost")]
    assert not lost, f"{len(lost)} of {len(sent)} requests did not end: {lost[:3]}"
    reasons = {s.ended for s in sent}
    errors = sorted({s.error[:40] for s in sent if s.error})
    print(f"{len(sent)} requests, endings {sorted(reasons)}, errors {errors}")
    assert "stop" in reasons and "error" in reasons, reasons
    print(f"{len(sent)} requests, endings {sorted(reasons)}, RSS {warm >> 20} -> {end >> 20} MB")
    assert end - warm < RSS_BOUND, f"RSS grew from {warm >> 20} MB to {end >> 20} MB"
