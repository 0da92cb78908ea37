"""A fake NovelAI text API: ``/ai/generate``, ``/ai/generate-stream``, ``/user/subscription``.

Faithful parts: Bearer token required (401 ``{"statusCode", "message"}``); ``input`` and a
known ``model`` required, ``parameters.max_length`` within 1..150, ``stop_sequences`` and
``bad_words_ids`` arrays of arrays of integers, ``logit_bias_exp`` entries with an integer
``sequence`` (400 otherwise); the stream is SSE ``event: newToken`` / ``id`` /
``data: {"token", "ptr", "final", "logprobs"}`` with ``final: true`` on the last token; the
non-stream answer is ``{"output"}``.

Given ``encoders`` (model -> text-to-ids), the fake stops like NovelAI: after the token whose
ids complete a stop sequence, which is still sent (the caller trims the stop text).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes._common import REPLY, faulty_stream, record, status_fault, streaming
from tests.fakes.server import FaultPlan

MODELS = {"clio-v1", "kayra-v1", "llama-3-erato-v1"}


def nai_error(code: int, message: str) -> dict[str, Any]:
    """NovelAI's error body."""
    return {"statusCode": code, "message": message}


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("input"), str):
        return "input must be a string"
    if body.get("model") not in MODELS:
        return f"model {body.get('model')!r} is not a valid model"
    params = body.get("parameters") or {}
    length = params.get("max_length")
    if not isinstance(length, int) or not 1 <= length <= 150:
        return "parameters.max_length must be between 1 and 150"
    for name in ("stop_sequences", "bad_words_ids"):
        if params.get(name) is not None and not _id_lists(params[name]):
            return f"parameters.{name} must be an array of arrays of integers"
    biases = params.get("logit_bias_exp")
    if biases is not None and not (
        isinstance(biases, list) and all(_bias_ok(bias) for bias in biases)
    ):
        return "parameters.logit_bias_exp must be an array of logit bias objects"
    return None


def _ints(value: Any) -> bool:
    return isinstance(value, list) and all(type(i) is int for i in value)


def _id_lists(value: Any) -> bool:
    return isinstance(value, list) and all(_ints(ids) for ids in value)


def _bias_ok(bias: Any) -> bool:
    return (
        isinstance(bias, dict)
        and _ints(bias.get("sequence"))
        and isinstance(bias.get("bias"), int | float)
        and isinstance(bias.get("ensure_sequence_finish"), bool)
        and isinstance(bias.get("generate_once"), bool)
    )


Encode = Callable[[str], list[int]]


def reply_tokens(body: dict[str, Any], encoders: dict[str, Encode]) -> list[str]:
    """The tokens to send: ``REPLY`` cut to ``max_length`` and at the first stop sequence."""
    tokens = REPLY[: body["parameters"]["max_length"]]
    encode = encoders.get(body["model"])
    stops = body["parameters"].get("stop_sequences") or []
    if encode is None or not stops:
        return tokens
    for end in range(1, len(tokens) + 1):
        ids = encode("".join(tokens[:end]))
        if any(_contains(ids, stop) for stop in stops):
            return tokens[:end]
    return tokens


def _contains(ids: list[int], part: list[int]) -> bool:
    return any(ids[i : i + len(part)] == part for i in range(len(ids) - len(part) + 1))


def create_app(
    plan: FaultPlan, *, key: str, tier: int = 3, encoders: dict[str, Encode] | None = None
) -> FastAPI:
    """Build the fake accepting the token ``key`` (``encoders``: see the module doc)."""
    known = encoders or {}
    app = FastAPI()

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        await record(plan, request)
        if request.headers.get("authorization") != f"Bearer {key}":
            return JSONResponse(nai_error(401, "Access Token is incorrect."), status_code=401)
        response: Response = await call_next(request)
        return response

    @app.get("/user/subscription")
    async def subscription() -> dict[str, Any]:
        perks = {"maxPriorityActions": 1000, "contextTokens": 8192, "unlimitedMaxPriority": True}
        return {"tier": tier, "active": tier > 0, "expiresAt": 1900000000, "perks": perks}

    async def checked(request: Request) -> tuple[dict[str, Any], str | None, Response | None]:
        body = await request.json()
        fault = plan.take()
        problem = _invalid(body)
        if problem:
            return body, fault, JSONResponse(nai_error(400, problem), status_code=400)
        return body, fault, status_fault(fault, nai_error)

    @app.post("/ai/generate")
    async def generate(request: Request) -> Response:
        body, _fault, refused = await checked(request)
        if refused is not None:
            return refused
        tokens = reply_tokens(body, known)
        return JSONResponse({"output": "".join(tokens)}, status_code=201)

    @app.post("/ai/generate-stream")
    async def generate_stream(request: Request) -> Response:
        body, fault, refused = await checked(request)
        if refused is not None:
            return refused
        tokens = reply_tokens(body, known)
        frames = [_frame(i, t, i == len(tokens) - 1) for i, t in enumerate(tokens)]
        chunks = faulty_stream(
            frames,
            fault,
            plan,
            malformed=b'event: newToken\ndata: {"token\n\n',
            error_frame=b'event: error\ndata: {"error": "generation failed"}\n\n',
        )
        return await streaming(chunks, fault, plan, "text/event-stream")

    return app


def _frame(ptr: int, token: str, final: bool) -> bytes:
    data = {"token": token, "ptr": ptr, "final": final, "logprobs": None}
    return f"event: newToken\nid: {ptr + 1}\ndata: {json.dumps(data)}\n\n".encode()
