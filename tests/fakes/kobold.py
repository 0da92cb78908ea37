"""A fake KoboldCpp (native ``/api/extra`` + classic ``/api/v1``) and KoboldAI United.

Faithful parts: SSE ``event: message`` frames carrying ``{"token", "finish_reason"}``,
``genkey`` + ``/api/extra/abort`` really stopping an in-flight stream, ``/api/extra/tokencount``
answering ``{value, ids}``, FastAPI-style ``{"detail": {"msg", "type"}}`` errors,
``--password`` checked as a Bearer token. ``united=True`` serves only ``/api/v1``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes._common import (
    REPLY,
    fake_tokens,
    faulty_stream,
    record,
    status_fault,
    streaming,
    tokenize_fault,
)
from tests.fakes.server import FaultPlan


def kobold_error(code: int, msg: str) -> dict[str, Any]:
    """KoboldCpp's error body."""
    kind = {401: "unauthorized", 429: "rate_limited", 503: "service_unavailable"}
    return {"detail": {"msg": msg, "type": kind.get(code, "bad_input")}}


def _reply(body: dict[str, Any]) -> tuple[list[str], str]:
    limit = int(body.get("max_length", 100))
    tokens = REPLY[:limit]
    for stop in body.get("stop_sequence") or []:
        text = "".join(tokens)
        if stop in text:
            return [text[: text.index(stop)]], "stop"
    return tokens, "length" if limit < len(REPLY) else "stop"


def create_app(
    plan: FaultPlan,
    *,
    united: bool = False,
    password: str | None = None,
    context: int = 4096,
    token_delay: float = 0.0,
    version: str = "1.80.3",
) -> FastAPI:
    """Build the fake; ``token_delay`` slows the stream so tests can stop it mid-way."""
    app = FastAPI()
    aborted: set[str] = set()

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        await record(plan, request)
        extra = request.url.path.startswith("/api/extra")
        if united and extra:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        if password and request.headers.get("authorization") != f"Bearer {password}":
            return JSONResponse(kobold_error(401, "Authentication key is missing"), 401)
        response: Response = await call_next(request)
        return response

    @app.get("/api/v1/model")
    async def model() -> dict[str, Any]:
        return {"result": "koboldcpp/fake-7b"}

    @app.get("/api/v1/info/version")
    async def united_version() -> dict[str, Any]:
        return {"result": "1.2.5"}

    @app.get("/api/v1/config/max_context_length")
    async def max_context() -> dict[str, Any]:
        return {"value": context}

    @app.get("/api/extra/version")
    async def extra_version() -> dict[str, Any]:
        return {"result": "KoboldCpp", "version": version, "protected": bool(password)}

    @app.post("/api/extra/tokencount")
    async def tokencount(request: Request) -> Response:
        refused = await tokenize_fault(plan, kobold_error)
        if refused is not None:
            return refused
        ids = fake_tokens((await request.json()).get("prompt", ""))
        return JSONResponse({"value": len(ids), "ids": ids})

    @app.post("/api/extra/abort")
    async def abort(request: Request) -> dict[str, Any]:
        aborted.add((await request.json()).get("genkey", ""))
        return {"success": "true", "done": "true"}

    def invalid(body: Any, fault: str | None) -> Response | None:
        if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
            return JSONResponse(kobold_error(422, "prompt: field required"), status_code=422)
        return status_fault(fault, kobold_error)

    @app.post("/api/v1/generate")
    async def generate(request: Request) -> Response:
        body = await request.json()
        fault = plan.take()
        refused = invalid(body, fault)
        if refused is not None:
            return refused
        if fault == "stall":
            await plan.stall()
        tokens, reason = _reply(body)
        return JSONResponse({"results": [{"text": "".join(tokens), "finish_reason": reason}]})

    @app.post("/api/extra/generate/stream")
    async def stream(request: Request) -> Response:
        body = await request.json()
        fault = plan.take()
        refused = invalid(body, fault)
        if refused is not None:
            return refused
        tokens, reason = _reply(body)
        genkey = body.get("genkey", "")
        frames = [_frame({"token": t, "finish_reason": None}) for t in tokens]
        frames.append(_frame({"token": "", "finish_reason": reason}))
        chunks = faulty_stream(
            frames,
            fault,
            plan,
            malformed=b"event: message\ndata: {not json\n\n",
            error_frame=_frame(kobold_error(500, "generation crashed")),
            delay=token_delay,
            stop=lambda: genkey in aborted,
        )
        return await streaming(chunks, fault, plan, "text/event-stream")

    return app


def _frame(data: dict[str, Any]) -> bytes:
    return f"event: message\ndata: {json.dumps(data)}\n\n".encode()
