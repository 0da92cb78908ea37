"""A fake Azure OpenAI resource: deployments, chat completions, Azure's errors and filter.

Routes: ``GET /openai/deployments?api-version=2022-12-01`` (the deployment list; 404 when
created with ``lists_deployments=False``, as newer resources answer) and ``POST
/openai/deployments/{deployment}/chat/completions?api-version=...``. Validates like Azure:
the ``api-key`` header (401 ``{"error": {"code": "401", "message": "Access denied due to
invalid subscription key or wrong API endpoint..."}}``), a supported ``api-version`` (404
``Resource not found`` otherwise), a known deployment (404 ``DeploymentNotFound``). A prompt
containing "forbidden" is refused with 400 ``content_filter`` (``innererror``
``ResponsibleAIPolicyViolation``); a reply containing "unsafe" stops with ``finish_reason:
content_filter``. Streams start with Azure's ``prompt_filter_results`` chunk (no choices)
and carry ``content_filter_results`` on each choice, then ``data: [DONE]``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.chat_common import before_reply, chunks_of, echo_text, record, sse, sse_response
from tests.fakes.server import FaultPlan

DEFAULT_KEY = "0123456789abcdef0123456789abcdef"
DEPLOYMENTS = {"chat-4o": "gpt-4o", "mini": "gpt-4o-mini"}
VERSIONS = {"2024-10-21", "2024-06-01", "2025-01-01-preview", "2022-12-01"}
CATEGORIES = ("hate", "self_harm", "sexual", "violence")
FILTER_MESSAGE = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management "
    "policy. Please modify your prompt and retry. To learn more about our content filtering "
    "policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)


def error_body(status: int, kind: str, message: str) -> dict[str, Any]:
    """Azure's error body for the shared faults."""
    if status == 429:
        message = (
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
            "2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. "
            "Please retry after 1 second."
        )
    return {"error": {"code": str(status), "message": message}}


def _fail(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _filter_results(filtered: bool) -> dict[str, Any]:
    return {
        c: {"filtered": filtered, "severity": "high" if filtered else "safe"} for c in CATEGORIES
    }


def _prompt_filtered() -> JSONResponse:
    error = {
        "message": FILTER_MESSAGE,
        "type": None,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": _filter_results(True),
        },
    }
    return JSONResponse({"error": error}, status_code=400)


def _auth(request: Request, key: str) -> JSONResponse | None:
    if request.headers.get("api-key") == key and "authorization" not in request.headers:
        return None
    return _fail(
        401,
        "401",
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
        "provide a valid key for an active subscription and use a correct regional API "
        "endpoint for your resource.",
    )


def _version(request: Request) -> JSONResponse | None:
    if request.query_params.get("api-version") in VERSIONS:
        return None
    return _fail(404, "404", "Resource not found")


def _validate(deployment: str, body: Any) -> JSONResponse | None:
    if deployment not in DEPLOYMENTS:
        return _fail(
            404,
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the "
            "deployment within the last 5 minutes, please wait a moment and try again.",
        )
    if not isinstance(body, dict) or not body.get("messages"):
        return _fail(400, "BadRequest", "'messages' is a required property")
    if any("forbidden" in str(m.get("content", "")) for m in body["messages"]):
        return _prompt_filtered()
    return None


def _reply(body: dict[str, Any]) -> tuple[str, str]:
    users = [str(m.get("content", "")) for m in body["messages"] if m.get("role") == "user"]
    words = echo_text(users[-1] if users else "").split(" ")
    if "unsafe" in words:
        return " ".join(words[: words.index("unsafe")]), "content_filter"
    limit = body.get("max_tokens")
    if isinstance(limit, int) and limit < len(words):
        return " ".join(words[:limit]), "length"
    return " ".join(words), "stop"


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {
        "index": 0,
        "delta": delta,
        "finish_reason": finish,
        "content_filter_results": _filter_results(finish == "content_filter"),
    }
    return {
        "id": "chatcmpl-az",
        "object": "chat.completion.chunk",
        "model": model,
        "choices": [choice],
    }


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
    return {"prompt_tokens": prompt, "completion_tokens": len(text.split())}


def _frames(model: str, body: dict[str, Any], text: str, reason: str) -> list[str]:
    prompt_filter = [{"prompt_index": 0, "content_filter_results": _filter_results(False)}]
    frames = [sse({"id": "", "model": "", "choices": [], "prompt_filter_results": prompt_filter})]
    frames += [sse(_chunk(model, {"content": piece})) for piece in chunks_of(text) if piece]
    frames.append(sse(_chunk(model, {}, reason)))
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {**_chunk(model, {}), "choices": [], "usage": _usage(body, text)}
        frames.append(sse(usage))
    return [*frames, "data: [DONE]\n\n"]


def _completion(model: str, body: dict[str, Any], text: str, reason: str) -> dict[str, Any]:
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": text},
        "finish_reason": reason,
        "content_filter_results": _filter_results(reason == "content_filter"),
    }
    return {"id": "chatcmpl-az", "object": "chat.completion", "model": model,
            "choices": [choice], "usage": _usage(body, text)}  # fmt: skip


def _in_stream(fault: str) -> str:
    if fault == "malformed":
        return 'data: {"id": "chatcmpl-az", "choices": [\n\n'
    return sse(error_body(500, "", "The server had an error while processing your request."))


def create_app(
    plan: FaultPlan, *, key: str = DEFAULT_KEY, lists_deployments: bool = True
) -> FastAPI:
    """The fake Azure OpenAI resource."""
    app = FastAPI()

    @app.get("/openai/deployments")
    async def deployments(request: Request) -> Response:
        await record(plan, request)
        early = await before_reply(plan, plan.take(), error_body)
        if early is not None:
            return early
        denied = _auth(request, key) or _version(request)
        if denied is not None or not lists_deployments:
            return denied or _fail(404, "404", "Resource not found")
        data = [
            {"id": name, "model": model, "status": "succeeded", "object": "deployment"}
            for name, model in DEPLOYMENTS.items()
        ]
        return JSONResponse({"data": data, "object": "list"})

    @app.post("/openai/deployments/{deployment}/chat/completions")
    async def chat(deployment: str, request: Request) -> Response:
        entry = await record(plan, request)
        fault = plan.take()
        early = await before_reply(plan, fault, error_body)
        if early is not None:
            return early
        denied = _auth(request, key) or _version(request) or _validate(deployment, entry["body"])
        if denied is not None:
            return denied
        body, model = entry["body"], DEPLOYMENTS[deployment]
        text, reason = _reply(body)
        if not body.get("stream"):
            entry["completed"] = True
            return JSONResponse(_completion(model, body, text, reason))
        return sse_response(plan, entry, _frames(model, body, text, reason), fault, _in_stream)

    return app
