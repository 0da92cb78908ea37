"""A fake Gemini API (``/v1beta/models``, ``:generateContent``, ``:streamGenerateContent``,
``:countTokens``; the same under ``/v1``, which google-genai uses by default).

Validates like the real API: the key (header ``x-goog-api-key`` or ``?key=``; a wrong key
is 400 INVALID_ARGUMENT with reason API_KEY_INVALID), a known model (404 NOT_FOUND),
``contents`` with roles ``user``/``model`` only, known safety categories, at most 5 stop
sequences. Errors use ``{"error": {"code", "message", "status", "details"}}``. Streams are
SSE only with ``alt=sse`` (otherwise a JSON array, as upstream). A prompt containing
"forbidden" is blocked (``promptFeedback.blockReason``); "unsafe" gets ``finishReason:
SAFETY``; the ``blocked`` fault blocks any prompt. ``countTokens`` takes ``contents`` or a
``generateContentRequest`` (never both) and counts one token a word, as the usage does;
like the real API it leaves ``totalTokens`` out when it is 0.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.chat_common import before_reply, chunks_of, echo_text, record, sse_response
from tests.fakes.server import FaultPlan

DEFAULT_KEY = "AIzaFake-0123456789abcdef"
MODELS = ("gemini-2.5-flash", "gemini-2.5-pro")
CATEGORIES = {
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
}
STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def error_body(status: int, kind: str, message: str, reason: str | None = None) -> dict[str, Any]:
    """Google's error body."""
    error: dict[str, Any] = {"code": status, "message": message, "status": STATUS[status]}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
            }
        ]
    return {"error": error}


def _fail(status: int, message: str, reason: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, "", message, reason), status_code=status)


def _auth(request: Request, key: str) -> JSONResponse | None:
    given = request.headers.get("x-goog-api-key") or request.query_params.get("key")
    if not given:
        return _fail(403, "Method doesn't allow unregistered callers.")
    if given != key:
        return _fail(400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
    return None


def _validate(model: str, body: Any) -> JSONResponse | None:
    if model not in MODELS:
        return _fail(404, f"models/{model} is not found for API version v1beta.")
    if not isinstance(body, dict) or not body.get("contents"):
        return _fail(400, "* GenerateContentRequest.contents: contents is not specified")
    for content in body["contents"]:
        if content.get("role") not in ("user", "model"):
            return _fail(400, "Please use a valid role: user, model.")
        if not content.get("parts"):
            return _fail(400, "contents.parts must not be empty.")
    for setting in body.get("safetySettings") or []:
        if setting.get("category") not in CATEGORIES:
            return _fail(400, "Invalid value at 'safety_settings[0].category'")
    if len((body.get("generationConfig") or {}).get("stopSequences") or []) > 5:
        return _fail(400, "stopSequences: up to 5 are allowed")
    return None


def _count(model: str, body: Any) -> JSONResponse:
    if not isinstance(body, dict):
        return _fail(400, "Invalid JSON payload received.")
    inner = body.get("generateContentRequest")
    if inner is not None and body.get("contents"):
        return _fail(400, "contents and generateContentRequest are mutually exclusive")
    request = inner if isinstance(inner, dict) else {"contents": body.get("contents")}
    invalid = _validate(model, request)
    if invalid is not None:
        return invalid
    system = (request.get("systemInstruction") or {}).get("parts") or []
    total = _usage(request, "")["promptTokenCount"] + sum(
        len(p.get("text", "").split()) for p in system
    )
    details = [{"modality": "TEXT", "tokenCount": total}]
    return JSONResponse({"totalTokens": total, "promptTokensDetails": details} if total else {})


def _last_user(body: dict[str, Any]) -> str:
    users = [c for c in body["contents"] if c["role"] == "user"]
    return " ".join(p.get("text", "") for p in users[-1]["parts"]) if users else ""


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(p.get("text", "").split()) for c in body["contents"] for p in c["parts"])
    out = len(text.split())
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": out,
        "totalTokenCount": prompt + out,
    }


def _chunk(model: str, parts: list[Any], reason: str | None, usage: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if reason:
        candidate["finishReason"] = reason
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model}


def _blocked(body: dict[str, Any]) -> dict[str, Any]:
    ratings = [{"category": c, "probability": "HIGH"} for c in sorted(CATEGORIES)][:1]
    return {
        "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": ratings},
        "usageMetadata": _usage(body, ""),
        "modelVersion": "gemini",
    }


def _pieces(model: str, body: dict[str, Any], text: str) -> list[dict[str, Any]]:
    usage = _usage(body, text)
    thoughts = (body.get("generationConfig") or {}).get("thinkingConfig", {})
    chunks: list[dict[str, Any]] = []
    if thoughts.get("includeThoughts"):
        chunks.append(_chunk(model, [{"text": "Thinking...", "thought": True}], None, usage))
    words = chunks_of(text)
    for index, piece in enumerate(words):
        last = index == len(words) - 1
        chunks.append(_chunk(model, [{"text": piece}], "STOP" if last else None, usage))
    if "unsafe" in text:
        chunks.append(_chunk(model, [], "SAFETY", usage))
        del chunks[-1]["candidates"][0]["content"]
        chunks[-2]["candidates"][0].pop("finishReason", None)
    return chunks


def _reply(model: str, body: dict[str, Any], text: str) -> dict[str, Any]:
    chunks = _pieces(model, body, text)
    parts = [p for c in chunks for p in c["candidates"][0].get("content", {}).get("parts", [])]
    reason = chunks[-1]["candidates"][0].get("finishReason", "STOP")
    reply = _chunk(model, parts, reason, _usage(body, text))
    if not parts:
        del reply["candidates"][0]["content"]
    return reply


def _in_stream(fault: str) -> str:
    if fault == "malformed":
        return 'data: {"candidates": [{"content": \r\n\r\n'
    return "data: " + json.dumps(error_body(503, "", "The model is overloaded.")) + "\r\n\r\n"


def create_app(plan: FaultPlan, *, key: str = DEFAULT_KEY) -> FastAPI:
    """The fake Gemini API."""
    app = FastAPI()
    for version in ("v1beta", "v1"):
        _routes(app, plan, key, version)
    return app


def _routes(app: FastAPI, plan: FaultPlan, key: str, version: str) -> None:
    @app.get(f"/{version}/models")
    async def models(request: Request) -> Response:
        await record(plan, request)
        early = await before_reply(plan, plan.take(), error_body)
        if early is not None:
            return early
        denied = _auth(request, key)
        if denied is not None:
            return denied
        items = [
            {
                "name": f"models/{m}",
                "displayName": m.title(),
                "inputTokenLimit": 1048576,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            }
            for m in MODELS
        ]
        items.append({"name": "models/embedding-001", "supportedGenerationMethods": ["embed"]})
        return JSONResponse({"models": items})

    @app.post(f"/{version}/models/{{target}}")
    async def generate(target: str, request: Request) -> Response:
        entry = await record(plan, request)
        model, _, method = target.partition(":")
        if method == "countTokens":
            early = await before_reply(plan, plan.tokenize_fault, error_body)
            return early or _auth(request, key) or _count(model, entry["body"])
        fault = plan.take()
        early = await before_reply(plan, fault, error_body)
        if early is not None:
            return early
        if method not in ("generateContent", "streamGenerateContent"):
            return _fail(404, f"Method {method} not found")
        denied = _auth(request, key) or _validate(model, entry["body"])
        if denied is not None:
            return denied
        body = entry["body"]
        text = echo_text(_last_user(body))
        if fault == "blocked" or "forbidden" in text:
            entry["completed"] = True
            blocked = _blocked(body)
            if method == "generateContent":
                return JSONResponse(blocked)
            return Response(f"data: {json.dumps(blocked)}\r\n\r\n", media_type="text/event-stream")
        if method == "generateContent":
            entry["completed"] = True
            return JSONResponse(_reply(model, body, text))
        chunks = _pieces(model, body, text)
        if request.query_params.get("alt") != "sse":
            return JSONResponse(chunks)
        frames = [f"data: {json.dumps(c)}\r\n\r\n" for c in chunks]
        return sse_response(plan, entry, frames, fault, _in_stream, fault_at=1)
