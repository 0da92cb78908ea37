"""A fake Ollama server: ``/api/generate`` (NDJSON), ``/api/tags``, ``/api/version``,
``/api/embed``.

Faithful parts: NDJSON lines ``{"model", "created_at", "response", "done"}`` and a last line
with ``done_reason``, ``prompt_eval_count``, ``eval_count`` and durations; errors as
``{"error": "..."}`` (404 for a model not pulled, 400 for a missing model name); the same
shapes the official ``ollama`` package parses. ``/api/embed`` answers
``{"model", "embeddings", "total_duration", "load_duration", "prompt_eval_count"}`` with the
deterministic vectors of ``openai_fake.fake_vectors`` (and its faults), for the pulled
models and ``EMBED_MODELS``.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes._common import REPLY, fake_tokens, faulty_stream, record, status_fault, streaming
from tests.fakes.openai_fake import embedding_inputs, fake_vectors
from tests.fakes.server import FaultPlan

MODELS = ("llama3.2:3b", "mistral:7b")
EMBED_MODELS = ("nomic-embed-text", "nomic-embed-text:latest")
"""Embedding models /api/embed takes besides ``MODELS`` (not listed by /api/tags)."""
CREATED = "2026-01-01T00:00:00.000000Z"


def ollama_error(code: int, message: str) -> dict[str, Any]:
    """Ollama's error body."""
    return {"error": message}


def _tag(name: str) -> dict[str, Any]:
    details = {"format": "gguf", "family": "llama", "parameter_size": "3B"}
    return {
        "name": name,
        "model": name,
        "modified_at": CREATED,
        "size": 2019393189,
        "digest": "a80c4f17acd5",
        "details": {**details, "quantization_level": "Q4_K_M"},
    }


def create_app(plan: FaultPlan, *, token_delay: float = 0.0) -> FastAPI:
    """Build the fake."""
    app = FastAPI()

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        await record(plan, request)
        response: Response = await call_next(request)
        return response

    @app.get("/api/version")
    async def version() -> dict[str, Any]:
        return {"version": "0.6.2"}

    @app.get("/api/tags")
    async def tags() -> dict[str, Any]:
        return {"models": [_tag(name) for name in MODELS]}

    @app.post("/api/generate")
    async def generate(request: Request) -> Response:
        body = await request.json()
        fault = plan.take()
        missing = _model_refused(body, MODELS)
        if missing is not None:
            return missing
        refused = status_fault(fault, ollama_error)
        if refused is not None:
            return refused
        options = body.get("options") or {}
        limit = int(options.get("num_predict", -1))
        tokens = REPLY if limit < 0 else REPLY[:limit]
        final = {
            "model": body["model"],
            "created_at": CREATED,
            "response": "",
            "done": True,
            "done_reason": "length" if 0 <= limit < len(REPLY) else "stop",
            "total_duration": 1000,
            "load_duration": 10,
            "prompt_eval_count": len(fake_tokens(body.get("prompt", ""))),
            "prompt_eval_duration": 100,
            "eval_count": len(tokens),
            "eval_duration": 500,
        }
        if body.get("stream") is False:
            return JSONResponse({**final, "response": "".join(tokens)})
        lines = [_line(body["model"], t) for t in tokens]
        lines.append((json.dumps(final) + "\n").encode())
        chunks = faulty_stream(
            lines,
            fault,
            plan,
            malformed=b'{"model": "x", "respon\n',
            error_frame=b'{"error": "an error was encountered while running the model"}\n',
            delay=token_delay,
        )
        return await streaming(chunks, fault, plan, "application/x-ndjson")

    @app.post("/api/embed")
    async def embed(request: Request) -> Response:
        body = await request.json()
        fault = plan.take()
        missing = _model_refused(body, MODELS + EMBED_MODELS)
        if missing is not None:
            return missing
        refused = status_fault(fault, ollama_error)
        if refused is not None:
            return refused
        texts = embedding_inputs(body)
        if texts is None:
            return JSONResponse(ollama_error(400, "invalid input type"), status_code=400)
        answer: dict[str, Any] = {
            "model": body["model"],
            "embeddings": fake_vectors(texts, fault),
            "total_duration": 14143917,
            "load_duration": 1019500,
            "prompt_eval_count": sum(len(fake_tokens(text)) for text in texts),
        }
        if fault == "no_data":
            answer["embeddings"] = None
        return JSONResponse(answer)

    return app


def _line(model: str, text: str) -> bytes:
    data = {"model": model, "created_at": CREATED, "response": text, "done": False}
    return (json.dumps(data) + "\n").encode()


def _model_refused(body: dict[str, Any], known: tuple[str, ...]) -> JSONResponse | None:
    """Ollama's answer to a request without a model or with one not pulled."""
    if not body.get("model"):
        return JSONResponse(ollama_error(400, "model is required"), status_code=400)
    if body["model"] not in known:
        message = f'model "{body["model"]}" not found, try pulling it first'
        return JSONResponse(ollama_error(404, message), status_code=404)
    return None
