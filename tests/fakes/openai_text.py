"""A fake OpenAI-compatible completions server in the flavours of ooba, Tabby, vLLM,
Mancer and DreamGen: their paths, auth headers, model and tokenize endpoints.

Faithful parts: SSE ``data: {choices:[{text, finish_reason}]}`` frames ending in
``data: [DONE]``; OpenAI error bodies ``{"error": {"message", "type", "code"}}``; ``prompt``
required (400 otherwise); vLLM usage chunk with ``stream_options.include_usage``. Mancer's
model list has ``name``, ``limits`` and ``pricing``; DreamGen's has ``display_type`` (image
models too) and its completions take only the fields of its documented OpenAI text API
(the list SillyTavern filters to; 400 for any other). The hosted ones (Mancer, DreamGen)
refuse a completion without ``model`` with 400, as the services do.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

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

PREFIX = {"mancer": "/oai/v1", "dreamgen": "/api/openai/v1"}
MODEL = "fake-13b"
DREAMGEN_KEYS = frozenset(
    {
        "model",
        "prompt",
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "repetition_penalty",
        "frequency_penalty",
        "presence_penalty",
        "stop",
        "stream",
        "minimum_message_content_tokens",
    }
)


def model_cards(flavour: str) -> list[dict[str, Any]]:
    """The model list of ``flavour`` in its own shape."""
    if flavour == "mancer":
        limits = {"context": 8192, "completion": 512}
        pricing = {"prompt": 0.5, "completion": 1.0}
        return [{"id": MODEL, "name": "Fake 13B", "limits": limits, "pricing": pricing}]
    if flavour == "dreamgen":
        return [
            {"id": "lucid-v1-image", "object": "model", "display_type": "image"},
            {"id": MODEL, "object": "model", "display_type": "text"},
        ]
    return [{"id": MODEL, "object": "model", "max_model_len": 8192}]


def openai_error(code: int, message: str) -> dict[str, Any]:
    """OpenAI's error body."""
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


def _authorized(flavour: str, key: str | None, request: Request) -> bool:
    if key is None:
        return True
    headers = request.headers
    if flavour == "tabby":
        return key in (headers.get("x-api-key"), headers.get("x-admin-key"))
    if flavour == "mancer":
        return headers.get("x-api-key") == key
    return headers.get("authorization") == f"Bearer {key}"


def create_app(
    plan: FaultPlan,
    flavour: str = "ooba",
    *,
    key: str | None = None,
    admin: bool = True,
    token_delay: float = 0.0,
) -> FastAPI:
    """Build the fake for ``flavour`` (ooba, tabby, vllm, mancer, dreamgen).

    Tabby's ``/v1/model/load`` streams SSE progress ending in ``status: finished``.
    """
    app = FastAPI()
    prefix = PREFIX.get(flavour, "/v1")
    state: dict[str, Any] = {"model": MODEL}

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        await record(plan, request)
        if not _authorized(flavour, key, request):
            return JSONResponse(openai_error(401, "Invalid API key"), status_code=401)
        response: Response = await call_next(request)
        return response

    @app.get(f"{prefix}/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": model_cards(flavour)}

    if flavour == "ooba":

        @app.get("/v1/internal/model/info")
        async def info() -> dict[str, Any]:
            return {"model_name": state["model"], "lora_names": []}

        @app.post("/v1/internal/encode")
        async def encode(request: Request) -> Response:
            refused = await tokenize_fault(plan, openai_error)
            if refused is not None:
                return refused
            ids = fake_tokens((await request.json())["text"])
            return JSONResponse({"tokens": ids, "length": len(ids)})

    if flavour == "tabby":

        @app.get("/v1/model/list")
        async def model_list() -> dict[str, Any]:
            cards = [{"id": n, "object": "model"} for n in (MODEL, "other-7b")]
            return {"object": "list", "data": cards}

        @app.get("/v1/model")
        async def current() -> Response:
            if state["model"] is None:
                return JSONResponse(openai_error(400, "No models are currently loaded."), 400)
            return JSONResponse({"id": state["model"], "object": "model"})

        @app.post("/v1/token/encode")
        async def token_encode(request: Request) -> Response:
            refused = await tokenize_fault(plan, openai_error)
            if refused is not None:
                return refused
            ids = fake_tokens((await request.json())["text"])
            return JSONResponse({"tokens": ids, "length": len(ids)})

        @app.get("/v1/auth/permission")
        async def permission() -> dict[str, Any]:
            return {"permission": "admin" if admin else "api"}

        @app.post("/v1/model/load")
        async def load(request: Request) -> Response:
            name = (await request.json()).get("name")
            if name not in (MODEL, "other-7b"):
                message = "Could not find the model path for load. Check model name or config.yml?"
                return JSONResponse(openai_error(400, message), status_code=400)
            state["model"] = name
            steps = [(i, 3, "processing") for i in range(1, 3)] + [(3, 3, "finished")]
            cards = [
                {"model_type": "model", "module": m, "modules": n, "status": st}
                for m, n, st in steps
            ]
            frames = [f"data: {json.dumps(card)}\n\n".encode() for card in cards]
            return StreamingResponse(iter(frames), media_type="text/event-stream")

        @app.post("/v1/model/unload")
        async def unload() -> Response:
            state["model"] = None
            return Response(status_code=200)

    if flavour == "vllm":

        @app.post("/tokenize")
        async def tokenize(request: Request) -> Response:
            refused = await tokenize_fault(plan, openai_error)
            if refused is not None:
                return refused
            ids = fake_tokens((await request.json())["prompt"])
            return JSONResponse({"count": len(ids), "max_model_len": 8192, "tokens": ids})

    @app.post(f"{prefix}/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        fault = plan.take()
        if not isinstance(body.get("prompt"), str):
            return JSONResponse(openai_error(400, "'prompt' is a required property"), 400)
        unknown = sorted(set(body) - DREAMGEN_KEYS) if flavour == "dreamgen" else []
        if unknown:
            return JSONResponse(
                openai_error(400, f"Unrecognized request arguments: {unknown}"), 400
            )
        refused = status_fault(fault, openai_error)
        if refused is not None:
            return refused
        if flavour in PREFIX and not body.get("model"):  # hosted: no model, no reply
            return JSONResponse(openai_error(400, "'model' is a required property"), 400)
        limit = int(body.get("max_tokens") or 16)
        tokens = REPLY[:limit]
        reason = "length" if limit < len(REPLY) else "stop"
        usage = {
            "prompt_tokens": len(fake_tokens(body["prompt"])),
            "completion_tokens": len(tokens),
        }
        if not body.get("stream"):
            choice = {"index": 0, "text": "".join(tokens), "finish_reason": reason}
            return JSONResponse({"object": "text_completion", "choices": [choice], "usage": usage})
        return await streaming(
            _frames(body, tokens, reason, usage, fault, plan, token_delay),
            fault,
            plan,
            "text/event-stream",
        )

    return app


def _frames(
    body: dict[str, Any],
    tokens: list[str],
    reason: str,
    usage: dict[str, int],
    fault: str | None,
    plan: FaultPlan,
    delay: float,
) -> Any:
    def chunk(text: str, finish: str | None) -> bytes:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        data = {"id": "cmpl-1", "object": "text_completion", "model": MODEL, "choices": [choice]}
        return f"data: {json.dumps(data)}\n\n".encode()

    frames = [chunk(t, None) for t in tokens] + [chunk("", reason)]
    if (body.get("stream_options") or {}).get("include_usage"):
        frames.append(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
    frames.append(b"data: [DONE]\n\n")
    return faulty_stream(
        frames,
        fault,
        plan,
        malformed=b'data: {"choices": [\n\n',
        error_frame=f"data: {json.dumps(openai_error(500, 'CUDA out of memory'))}\n\n".encode(),
        delay=delay,
    )
