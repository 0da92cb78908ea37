"""Helpers shared by the text-backend fakes: recording, canned faults, faulty streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.fakes.server import HTML_PAGE, FaultPlan

ErrorBody = Callable[[int, str], Any]


async def record(plan: FaultPlan, request: Request) -> dict[str, Any]:
    """Record ``request`` (method, path, query, headers, JSON body) in ``plan.requests``."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    entry = {
        "method": request.method,
        "path": request.url.path,
        "query": dict(request.query_params),
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "json": body,
    }
    plan.requests.append(entry)
    return entry


def status_fault(fault: str | None, error_body: ErrorBody) -> Response | None:
    """A canned answer for the status faults (429, 500, 503, html), else ``None``."""
    if fault == "429":
        return JSONResponse(
            error_body(429, "Too many requests"), status_code=429, headers={"Retry-After": "1"}
        )
    if fault in ("500", "503"):
        code = int(fault)
        return JSONResponse(error_body(code, "Internal server error"), status_code=code)
    if fault == "html":
        return Response(HTML_PAGE, media_type="text/html")
    return None


async def tokenize_fault(plan: FaultPlan, error_body: ErrorBody) -> Response | None:
    """Apply ``plan.tokenize_fault`` to a tokenize request: an error answer, or a stall."""
    if plan.tokenize_fault == "stall":
        await plan.stall()
        return None
    return status_fault(plan.tokenize_fault, error_body)


async def faulty_stream(
    frames: Iterable[bytes],
    fault: str | None,
    plan: FaultPlan,
    *,
    malformed: bytes,
    error_frame: bytes,
    delay: float = 0.0,
    stop: Callable[[], bool] | None = None,
) -> AsyncIterator[bytes]:
    """Yield ``frames`` with ``fault`` applied half way.

    ``cut`` raises, so the server drops the connection without ending the body; ``stop``
    is polled between frames so an abort can end the stream early. When the stream ends
    (also when the client went away), ``plan.requests`` gets a ``STREAM-END`` entry saying
    how many frames were sent.
    """
    items = list(frames)
    half = max(len(items) // 2, 1)
    sent = 0
    try:
        for index, frame in enumerate(items):
            if index == half:
                if fault == "cut":
                    raise ConnectionAbortedError("fake: connection cut mid-stream")
                if fault == "malformed":
                    yield malformed
                if fault == "error_in_stream":
                    yield error_frame
                    return
                if fault == "stall_mid":
                    await plan.stall()
            if stop is not None and stop():
                return
            yield frame
            sent += 1
            if delay:
                await asyncio.sleep(delay)
    finally:
        plan.requests.append({"method": "STREAM-END", "path": "", "sent": sent, "of": len(items)})


REPLY = ["Hello", ",", " traveler", ".", " The", " road", " is", " long", "."]
"""The tokens every fake generates, in order (cut to the requested length)."""


def fake_tokens(text: str) -> list[int]:
    """A deterministic fake tokenizer: one id per whitespace-separated word."""
    return [sum(map(ord, word)) % 32000 for word in text.split()]


async def streaming(
    chunks: AsyncIterator[bytes], fault: str | None, plan: FaultPlan, media_type: str
) -> StreamingResponse:
    """Answer with ``chunks``; a ``stall`` fault delays the headers (nothing is sent)."""
    if fault == "stall":
        await plan.stall()
    return StreamingResponse(chunks, media_type=media_type)
