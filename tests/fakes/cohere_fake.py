"""A fake Cohere API: ``POST /v2/chat`` (JSON or SSE) and ``GET /v1/models``.

Validates like the real API: a bearer key (``401 {"message": "no api key supplied"}`` or
``"invalid api token"``), a known chat model (404 naming it), non-empty ``messages`` with
roles system/user/assistant/tool, ``p`` in 0.01..0.99, ``k`` in 0..500, at most 5
``stop_sequences``, and no OpenAI names (``top_p``, ``stop``). Errors are
``{"message": "..."}`` as Cohere documents them. A stream is SSE with ``event:`` lines:
``message-start``, ``content-start``, ``content-delta`` (word by word), ``content-end``,
``message-end`` with ``finish_reason`` (COMPLETE / MAX_TOKENS / ERROR) and ``usage``. A
``*-reasoning-*`` model streams a ``thinking`` block first. The ``error_in_stream`` fault
ends the stream with ``finish_reason: ERROR``, as Cohere does.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.chat_common import before_reply, chunks_of, echo_text, record, sse, sse_response
from tests.fakes.server import FaultPlan

DEFAULT_KEY = "co-fake-0123456789abcdef"
CHAT_MODELS = ("command-a-03-2025", "command-r7b-12-2024", "command-a-reasoning-08-2025")
ROLES = {"system", "user", "assistant", "tool"}
MESSAGES = {
    429: "You are using a Trial key, which is limited to 20 API calls / minute. You can "
    "continue to use the Trial key for free or upgrade to a Production key.",
    500: "internal server error, this has been reported to our developers",
    503: "service unavailable",
}


def error_body(status: int, kind: str, message: str) -> dict[str, Any]:
    """Cohere's error body: only a message."""
    return {"message": MESSAGES.get(status, message)}


def _fail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def _auth(request: Request, key: str) -> JSONResponse | None:
    given = request.headers.get("authorization", "")
    if not given:
        return _fail(401, "no api key supplied")
    if given != f"Bearer {key}":
        return _fail(401, "invalid api token")
    return None


def _validate(body: Any) -> JSONResponse | None:
    if not isinstance(body, dict):
        return _fail(400, "invalid request: could not parse the body")
    if body.get("model") not in CHAT_MODELS:
        return _fail(
            404,
            f"model '{body.get('model')}' not found, make sure the correct model ID was used "
            "and that you have access to the model.",
        )
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _fail(400, "invalid request: messages must not be empty")
    if any(not isinstance(m, dict) or m.get("role") not in ROLES for m in messages):
        return _fail(400, "invalid request: role must be one of system, user, assistant, tool")
    for name in ("top_p", "top_k", "stop"):
        if name in body:
            return _fail(400, f"invalid request: unknown field: parameter {name} is not valid")
    if "p" in body and not 0.01 <= body["p"] <= 0.99:
        return _fail(400, "invalid request: p must be between 0.01 and 0.99, inclusive")
    if "k" in body and not 0 <= body["k"] <= 500:
        return _fail(400, "invalid request: k must be between 0 and 500, inclusive")
    if len(body.get("stop_sequences") or []) > 5:
        return _fail(400, "invalid request: stop_sequences can only contain up to 5 items")
    return None


def _reply_text(body: dict[str, Any]) -> tuple[str, str]:
    users = [str(m.get("content", "")) for m in body["messages"] if m.get("role") == "user"]
    words = echo_text(users[-1] if users else "").split(" ")
    limit = body.get("max_tokens")
    if isinstance(limit, int) and limit < len(words):
        return " ".join(words[:limit]), "MAX_TOKENS"
    return " ".join(words), "COMPLETE"


def _usage(body: dict[str, Any], text: str) -> dict[str, Any]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
    tokens = {"input_tokens": prompt, "output_tokens": len(text.split())}
    return {"billed_units": tokens, "tokens": tokens}


def _thinks(body: dict[str, Any]) -> bool:
    return "reasoning" in str(body["model"])


def _frames(body: dict[str, Any], text: str, reason: str) -> list[str]:
    start = {"message": {"role": "assistant", "content": [], "tool_plan": "", "citations": []}}
    frames = [sse({"id": "fake-id", "type": "message-start", "delta": start}, "message-start")]
    blocks: list[tuple[str, list[str]]] = [("text", chunks_of(text))]
    if _thinks(body):
        blocks.insert(0, ("thinking", ["Let me", " think."]))
    for index, (kind, pieces) in enumerate(blocks):
        opened = {"message": {"content": {"type": kind, kind: ""}}}
        frames.append(
            sse({"type": "content-start", "index": index, "delta": opened}, "content-start")
        )
        for piece in pieces:
            delta = {"message": {"content": {kind: piece}}}
            frames.append(
                sse({"type": "content-delta", "index": index, "delta": delta}, "content-delta")
            )
        frames.append(sse({"type": "content-end", "index": index}, "content-end"))
    end = {"finish_reason": reason, "usage": _usage(body, text)}
    frames.append(sse({"type": "message-end", "delta": end}, "message-end"))
    return frames


def _completion(body: dict[str, Any], text: str, reason: str) -> dict[str, Any]:
    content: list[dict[str, str]] = [{"type": "text", "text": text}]
    if _thinks(body):
        content.insert(0, {"type": "thinking", "thinking": "Let me think."})
    return {
        "id": "fake-id",
        "finish_reason": reason,
        "message": {"role": "assistant", "content": content},
        "usage": _usage(body, text),
    }


def _in_stream(fault: str) -> str:
    if fault == "malformed":
        return 'event: content-delta\ndata: {"type": "content-delta", "delta": \n\n'
    end = {"finish_reason": "ERROR", "error": "an internal error occurred during generation"}
    return sse({"type": "message-end", "delta": end}, "message-end")


def create_app(plan: FaultPlan, *, key: str = DEFAULT_KEY) -> FastAPI:
    """The fake Cohere API."""
    app = FastAPI()

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        await record(plan, request)
        early = await before_reply(plan, plan.take(), error_body)
        if early is not None:
            return early
        denied = _auth(request, key)
        if denied is not None:
            return denied
        items: list[dict[str, Any]] = [
            {"name": m, "endpoints": ["chat", "generate"], "context_length": 256000}
            for m in CHAT_MODELS
        ]
        items.append({"name": "embed-english-v3.0", "endpoints": ["embed"], "context_length": 512})
        if request.query_params.get("endpoint"):
            wanted = request.query_params["endpoint"]
            items = [m for m in items if wanted in m["endpoints"]]
        return JSONResponse({"models": items})

    @app.post("/v2/chat")
    async def chat(request: Request) -> Response:
        entry = await record(plan, request)
        fault = plan.take()
        early = await before_reply(plan, fault, error_body)
        if early is not None:
            return early
        denied = _auth(request, key) or _validate(entry["body"])
        if denied is not None:
            return denied
        body = entry["body"]
        text, reason = _reply_text(body)
        if not body.get("stream"):
            entry["completed"] = True
            return JSONResponse(_completion(body, text, reason))
        return sse_response(plan, entry, _frames(body, text, reason), fault, _in_stream, fault_at=3)

    return app
