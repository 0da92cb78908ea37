"""A fake llama.cpp server (``llama-server``): ``/completion``, ``/tokenize``, ``/props``,
``/health``, ``/v1/embeddings``.

Faithful parts: SSE ``data: {"content", "stop"}`` frames, the last with ``stop: true``,
``stop_type`` and token counts (no ``[DONE]``); errors as
``{"error": {"code", "message", "type"}}``; ``/health`` 503 "Loading model" while loading;
``--api-key`` checked as Bearer (``/health`` is public, as upstream); ``/v1/embeddings`` in
OpenAI's format (``openai_fake.embeddings_answer``, its faults too), or 501 unless the
server was started with ``--embeddings`` (``embeddings=True``).
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
from tests.fakes.openai_fake import embedding_inputs, embeddings_answer
from tests.fakes.server import FaultPlan

TYPES = {
    401: "authentication_error",
    503: "unavailable_error",
    400: "invalid_request_error",
    501: "not_supported_error",
}
MODEL_ALIAS = "fake-8b.Q4_K_M.gguf"


def llama_error(code: int, message: str) -> dict[str, Any]:
    """llama.cpp's error body."""
    return {"error": {"code": code, "message": message, "type": TYPES.get(code, "server_error")}}


def create_app(
    plan: FaultPlan,
    *,
    key: str | None = None,
    loading: bool = False,
    token_delay: float = 0.0,
    embeddings: bool = False,
) -> FastAPI:
    """Build the fake; ``loading=True`` answers 503 as while a model loads;
    ``embeddings=True`` serves ``/v1/embeddings`` (``llama-server --embeddings``)."""
    app = FastAPI()

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        await record(plan, request)
        public = request.url.path in ("/health",)
        if key and not public and request.headers.get("authorization") != f"Bearer {key}":
            return JSONResponse(llama_error(401, "Invalid API Key"), status_code=401)
        if loading:
            return JSONResponse(llama_error(503, "Loading model"), status_code=503)
        response: Response = await call_next(request)
        return response

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/props")
    async def props() -> dict[str, Any]:
        return {
            "default_generation_settings": {"n_ctx": 4096, "temperature": 0.8},
            "total_slots": 1,
            "model_path": "/models/fake-8b.Q4_K_M.gguf",
            "chat_template": "",
        }

    @app.post("/tokenize")
    async def tokenize(request: Request) -> Response:
        refused = await tokenize_fault(plan, llama_error)
        if refused is not None:
            return refused
        return JSONResponse({"tokens": fake_tokens((await request.json())["content"])})

    @app.post("/completion")
    async def completion(request: Request) -> Response:
        body = await request.json()
        fault = plan.take()
        if not isinstance(body.get("prompt"), str | list):
            return JSONResponse(llama_error(400, '"prompt" must be provided'), 400)
        refused = status_fault(fault, llama_error)
        if refused is not None:
            return refused
        limit = int(body.get("n_predict", -1))
        tokens = REPLY if limit < 0 else REPLY[:limit]
        final = {
            "content": "",
            "stop": True,
            "stop_type": "limit" if 0 <= limit < len(REPLY) else "eos",
            "tokens_evaluated": len(fake_tokens(body["prompt"])),
            "tokens_predicted": len(tokens),
        }
        if not body.get("stream"):
            return JSONResponse({**final, "content": "".join(tokens)})
        frames = [_frame({"content": t, "stop": False}) for t in tokens] + [_frame(final)]
        chunks = faulty_stream(
            frames,
            fault,
            plan,
            malformed=b'data: {"content": \n\n',
            error_frame=_frame(llama_error(500, "failed to decode the batch")),
            delay=token_delay,
        )
        return await streaming(chunks, fault, plan, "text/event-stream")

    @app.post("/v1/embeddings")
    async def embed(request: Request) -> Response:
        body = await request.json()
        fault = plan.take()
        if not embeddings:
            message = "This server does not support embeddings. Start it with `--embeddings`"
            return JSONResponse(llama_error(501, message), 501)
        texts = embedding_inputs(body)
        if texts is None:
            return JSONResponse(llama_error(400, '"input" must be provided'), 400)
        refused = status_fault(fault, llama_error)
        if refused is not None:
            return refused
        model = body.get("model") or MODEL_ALIAS
        encoding = body.get("encoding_format", "float")
        return JSONResponse(embeddings_answer(model, texts, fault, encoding))

    return app


def _frame(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()
