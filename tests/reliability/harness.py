"""A real pytavern server in a subprocess, and a slow fake OpenAI upstream on loopback.

``ServerProcess`` runs ``python -m pytavern serve --no-browser --port P`` with its own
``PYTAVERN_DATA_DIR`` and the given environment, captures stdout/stderr to a log file, and can
be killed (SIGKILL) and restarted. ``slow_upstream`` serves ``tests/fakes/openai_fake`` with a
per-chunk delay. ``read_stream`` reads a generation's SSE events as they arrive.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.fakes import openai_fake, openai_text
from tests.fakes.server import FaultPlan, free_port, serve

ROOT = Path(__file__).resolve().parents[2]
FAKE_KEY = openai_fake.DEFAULT_KEY


@contextmanager
def slow_upstream(
    chunk_delay: float, stall_seconds: float = 3.0
) -> Iterator[tuple[str, FaultPlan]]:
    """The fake OpenAI API on loopback, streaming one chunk per ``chunk_delay`` seconds."""
    plan = FaultPlan(stall_seconds=stall_seconds)
    with serve(openai_fake.create_app(plan, chunk_delay=chunk_delay)) as url:
        yield url, plan


@contextmanager
def text_upstream(token_delay: float) -> Iterator[tuple[str, FaultPlan]]:
    """The fake vLLM (OpenAI-compatible completions) API, one token per ``token_delay`` s.

    Its connections count tokens by characters, so a freshly started server answers its
    first generation at once (OpenAI-type connections load the BPE tables first).
    """
    plan = FaultPlan()
    with serve(openai_text.create_app(plan, "vllm", token_delay=token_delay)) as url:
        yield url, plan


class ServerProcess:
    """``pytavern serve`` as a subprocess on a fixed loopback port."""

    def __init__(self, data_dir: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT),
            "PYTAVERN_DATA_DIR": str(data_dir),
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        """Start the server and wait until ``/api/health`` answers."""
        command = [sys.executable, "-m", "pytavern", "serve", "--no-browser"]
        command += ["--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                time.sleep(0.02)
                continue
            with httpx.Client(base_url=self.url, timeout=5) as http:
                assert http.get("/api/health").status_code == 200
            return
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        """SIGKILL the server and reap it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server gently (SIGTERM), killing it if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def rss_bytes(self) -> int:
        """The server's resident memory now."""
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(row for row in status.splitlines() if row.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024


def add_upstream_connection(
    http: httpx.Client,
    upstream: str,
    options: dict[str, Any] | None = None,
    *,
    api: str = "openai",
    **headers: str,
) -> None:
    """Create the default connection ``up`` to the fake upstream, key included."""
    chat = api == "openai"
    body = {
        "name": "up",
        "api": api,
        "url": f"{upstream}/v1" if chat else upstream,
        "model": "gpt-4o-mini" if chat else openai_text.MODEL,
        "key": FAKE_KEY,
        "default": True,
        "options": options or {"max_retries": 0},
    }
    response = http.post("/api/connections", json=body, headers=headers)
    assert response.status_code == 201, response.text


def parse_frames(buffer: str) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """Complete SSE frames in ``buffer`` as (event, data), and the unfinished rest."""
    events = []
    *blocks, rest = buffer.split("\n\n")
    for block in blocks:
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events, rest
