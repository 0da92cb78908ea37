"""Pieces the chat-completion fakes share: request recording, echo text, stream faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from tests.fakes.server import HTML_PAGE, FaultPlan

ErrorBody = Callable[[int, str, str], dict[str, Any]]
"""(status, kind, message) -> the API's error body."""
IN_STREAM_FAULTS = ("malformed", "wrong_shape", "error_in_stream", "engine_error")
"""The faults ``sse_response`` sends as the fake's own bytes in place of the rest of the body."""


async def record(plan: FaultPlan, request: Request) -> dict[str, Any]:
    """Append the request (path, query, headers, JSON body) to ``plan.requests``."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    entry: dict[str, Any] = {
        "method": request.method,
        "path": request.url.path,
        "query": dict(request.query_params),
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "body": body,
        "disconnected": False,
        "completed": False,
    }
    plan.requests.append(entry)
    return entry


def echo_text(last_user: str) -> str:
    """The deterministic reply to a prompt whose last user message is ``last_user``."""
    return f"Echo: {last_user}"


def chunks_of(text: str) -> list[str]:
    """Split ``text`` into word chunks (keeping spaces) so a stream has several pieces."""
    words = text.split(" ")
    return [w if i == 0 else f" {w}" for i, w in enumerate(words)]


async def before_reply(
    plan: FaultPlan, fault: str | None, error_body: ErrorBody, overloaded_status: int = 503
) -> Response | None:
    """Apply a fault that happens before the reply; return the response to send, if any."""
    if fault == "429":
        return JSONResponse(
            error_body(429, "rate_limit", "Rate limit reached, slow down"),
            status_code=429,
            headers={"Retry-After": "1"},
        )
    if fault in ("500", "503"):
        status = int(fault)
        return JSONResponse(error_body(status, "server", "Internal failure"), status_code=status)
    if fault == "overloaded":
        return JSONResponse(
            error_body(overloaded_status, "overloaded", "Overloaded"),
            status_code=overloaded_status,
        )
    if fault == "html":
        return HTMLResponse(HTML_PAGE)
    if fault == "stall":
        await plan.stall()
    return None


def sse_response(
    plan: FaultPlan,
    entry: dict[str, Any],
    frames: list[str],
    fault: str | None,
    in_stream: Callable[[str], str],
    delay: float = 0.01,
    fault_at: int = 2,
) -> StreamingResponse:
    """Stream pre-formatted SSE ``frames``; faults strike before frame ``fault_at``.

    ``in_stream(fault)`` gives what is sent for ``malformed`` / ``wrong_shape`` /
    ``error_in_stream`` / ``engine_error`` before the body ends. A ``cut``
    drops the connection mid-body; the client going away is recorded as ``disconnected``.
    """

    async def body() -> AsyncIterator[bytes]:
        try:
            for index, frame in enumerate(frames):
                if index == fault_at and fault is not None:
                    if fault == "cut":
                        raise ConnectionAbortedError("fake: stream cut")
                    if fault == "stall_mid":
                        await plan.stall()
                    if fault in IN_STREAM_FAULTS:
                        yield in_stream(fault).encode()
                        return
                yield frame.encode()
                await asyncio.sleep(delay)
            entry["completed"] = True
        except (asyncio.CancelledError, GeneratorExit):
            entry["disconnected"] = True
            raise

    return StreamingResponse(body(), media_type="text/event-stream")


def sse(data: Any, event: str | None = None) -> str:
    """One SSE frame carrying ``data`` as JSON (or as is, for strings)."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n"
