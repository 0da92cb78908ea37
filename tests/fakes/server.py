"""Run an ASGI app as a real HTTP server on 127.0.0.1 in a background thread.

Every fake upstream is a small FastAPI/Starlette app; ``serve(app)`` starts uvicorn on a free
port and yields the base URL. Faults are injected per request through a shared
``FaultPlan`` that the test arms before calling.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` on loopback for the duration of the block; yields ``http://127.0.0.1:PORT``."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("fake server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@dataclass
class FaultPlan:
    """Faults to inject into the next requests, consumed one per request.

    Each entry is a fault name: ``"429"`` (with Retry-After: 1), ``"500"``, ``"503"``,
    ``"overloaded"``, ``"cut"`` (end the stream in the middle), ``"stall"`` (sleep before the
    first byte), ``"stall_mid"`` (sleep in the middle of the stream), ``"malformed"`` (a
    broken stream line), ``"wrong_shape"`` (a well-formed event of a shape the API never
    sends, where the fake supports it), ``"error_in_stream"`` (an error event inside the stream),
    ``"engine_error"`` (an error of the inference engine behind a router, passed on inside
    the stream, where the fake supports it), ``"html"`` (answer with a web page),
    ``"blocked"`` (Gemini safety block); a vendor fake may answer faults of its own.
    """

    queue: list[str] = field(default_factory=list)
    stall_seconds: float = 3.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    tokenize_fault: str | None = None
    """A fault for every tokenize / count-tokens request while set (``"stall"``, ``"500"``,
    ``"429"``...); those requests never take faults from ``queue``."""

    def arm(self, *faults: str) -> None:
        """Queue ``faults`` for the next requests, in order."""
        self.queue.extend(faults)

    def take(self) -> str | None:
        """Return the next fault, or ``None`` when no fault is armed."""
        return self.queue.pop(0) if self.queue else None

    async def stall(self) -> None:
        """Sleep as long as a stall fault lasts."""
        await asyncio.sleep(self.stall_seconds)


HTML_PAGE = "<!DOCTYPE html><html><head><title>Web UI</title></head><body>app</body></html>"
