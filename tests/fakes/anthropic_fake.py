"""A fake Anthropic Messages API (``POST /v1/messages``, ``POST /v1/messages/count_tokens``,
``GET /v1/models``).

Validates like the real API: ``x-api-key`` (or ``Authorization: Bearer``, which newer
SDKs send), ``anthropic-version``, a known model, the
required ``max_tokens``, messages that start with a user turn and alternate roles, no
``system`` role inside ``messages``, ``max_tokens`` above a thinking budget. Errors use
``{"type": "error", "error": {"type", "message"}}``; streams follow the real event order
(``message_start``, ``content_block_start``, ``ping``, ``content_block_delta``...,
``content_block_stop``, ``message_delta``, ``message_stop``); overloaded is HTTP 529.
Its tokenizer is one token a word, plus ``OVERHEAD`` tokens for the body's framing, in
``count_tokens`` (which takes no ``max_tokens`` or other generation-only fields, and
refuses whitespace-only text) and in the reported usage alike.

Prompt caching is modelled as the real API does it: blocks marked ``cache_control``
(``{"type": "ephemeral"}``, optionally ``"ttl": "5m" | "1h"``; at most four) end cacheable
prefixes, in the order tools, system, messages. A prefix shorter than the model's minimum
(``cache_min_tokens``, 1024 as for Sonnet; tests lower it to keep prompts small) is not
cached. A request reads the longest marked prefix still cached (``cache_read_input_tokens``),
writes the rest up to its last marker (``cache_creation_input_tokens``, split by TTL in
``cache_creation``), and reports only the tokens after that as ``input_tokens``. A read
refreshes the entry's lifetime.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.chat_common import before_reply, chunks_of, echo_text, record, sse, sse_response
from tests.fakes.server import FaultPlan

DEFAULT_KEY = "sk-ant-fake-0123456789abcdef"
MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-3-7-sonnet-latest")
ONE_OF_TEMPERATURE_TOP_P = frozenset({"claude-sonnet-4-5", "claude-haiku-4-5"})
"""Models the real API refuses ``temperature`` and ``top_p`` together for (400)."""
OVERHEAD = 7
"""Tokens the fake counts for a body's framing, on top of one a word."""
COUNT_FIELDS = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"}
    | {"cache_control", "output_config", "context_management", "speed"}
)
"""The fields ``/v1/messages/count_tokens`` takes (no ``max_tokens``, no samplers)."""
KINDS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


def error_body(status: int, kind: str, message: str) -> dict[str, Any]:
    """Anthropic's error body."""
    return {"type": "error", "error": {"type": KINDS.get(status, "api_error"), "message": message}}


def _fail(status: int, message: str) -> JSONResponse:
    return JSONResponse(error_body(status, "", message), status_code=status)


def _check_headers(request: Request, key: str) -> JSONResponse | None:
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
    if key not in (request.headers.get("x-api-key"), bearer):
        return _fail(401, "invalid x-api-key")
    if not request.headers.get("anthropic-version"):
        return _fail(400, "anthropic-version: header is required")
    return None


def _validate_messages(messages: Any) -> str | None:
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    previous = None
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            return f"messages.{index}.role: Input should be 'user' or 'assistant'"
        if role == previous:
            return "messages: roles must alternate between 'user' and 'assistant'"
        if not message.get("content"):
            return f"messages.{index}: all messages must have non-empty content"
        previous = role
    if messages[0]["role"] != "user":
        return "messages: first message must use the 'user' role"
    return None


def _text_of(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content)


def _prompt_tokens(body: dict[str, Any]) -> int:
    words = sum(len(_text_of(m["content"]).split()) for m in body["messages"])
    return OVERHEAD + words + len(_text_of(body.get("system", "")).split())


def _validate_count(body: Any) -> JSONResponse | None:
    if not isinstance(body, dict):
        return _fail(400, "invalid JSON body")
    extra = sorted(set(body) - COUNT_FIELDS)
    if extra:
        return _fail(400, f"{extra[0]}: Extra inputs are not permitted")
    problem = _validate_messages(body.get("messages"))
    if problem:
        return _fail(400, problem)
    if any(not _text_of(m["content"]).strip() for m in body["messages"]):
        return _fail(400, "messages: text content blocks must contain non-whitespace text")
    if body.get("model") not in MODELS:
        return _fail(404, f"model: {body.get('model')}")
    return None


def _validate(body: Any) -> JSONResponse | None:
    if not isinstance(body, dict):
        return _fail(400, "invalid JSON body")
    if "max_tokens" not in body:
        return _fail(400, "max_tokens: Field required")
    problem = _validate_messages(body.get("messages"))
    if problem:
        return _fail(400, problem)
    if body.get("model") not in MODELS:
        return _fail(404, f"model: {body.get('model')}")
    budget = (body.get("thinking") or {}).get("budget_tokens")
    if budget is not None and body["max_tokens"] <= budget:
        return _fail(400, "max_tokens must be greater than thinking.budget_tokens")
    if budget is not None and ("temperature" in body or "top_k" in body):
        return _fail(400, "temperature and top_k may not be set when thinking is enabled")
    both = "temperature" in body and "top_p" in body
    if both and body["model"] in ONE_OF_TEMPERATURE_TOP_P:
        return _fail(
            400,
            "`temperature` and `top_p` cannot both be specified for this model. "
            "Please use only one.",
        )
    return None


def _reply_text(body: dict[str, Any]) -> str:
    users = [m["content"] for m in body["messages"] if m["role"] == "user"]
    text = echo_text(_text_of(users[-1]))
    last = body["messages"][-1]
    return text.lower() if last["role"] == "assistant" else text


class PromptCache:
    """Cached prompt prefixes: digest -> expiry time."""

    def __init__(self, min_tokens: int) -> None:
        self.min_tokens = min_tokens
        self.entries: dict[str, float] = {}

    def usage(self, body: dict[str, Any]) -> dict[str, Any]:
        """The usage of a request's prompt, reading and writing the cache as the API does."""
        total = _prompt_tokens(body)
        marks = [m for m in _breakpoints(body) if m[1] >= self.min_tokens]
        now = time.monotonic()
        read = 0
        for digest, tokens, _ttl in marks:
            if self.entries.get(digest, 0.0) > now:
                read = max(read, tokens)
        by_ttl = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
        written_to = read
        for digest, tokens, ttl in marks:
            self.entries[digest] = now + (3600.0 if ttl == "1h" else 300.0)
            if tokens > written_to:
                by_ttl[f"ephemeral_{ttl}_input_tokens"] += tokens - written_to
                written_to = tokens
        created = written_to - read
        return {
            "input_tokens": total - read - created,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "cache_creation": by_ttl,
        }


def _segments(body: dict[str, Any]) -> list[tuple[Any, dict[str, Any] | None]]:
    """Every block of the prompt in cache order (system, then messages), with its
    role, as ``(block, cache_control)``."""
    found: list[tuple[Any, dict[str, Any] | None]] = []
    system = body.get("system")
    for block in system if isinstance(system, list) else ([system] if system else []):
        found.append((["system", block], _control(block)))
    for message in body["messages"]:
        content = message["content"]
        for block in content if isinstance(content, list) else [content]:
            found.append(([message["role"], block], _control(block)))
    return found


def _control(block: Any) -> dict[str, Any] | None:
    control = block.get("cache_control") if isinstance(block, dict) else None
    return control if isinstance(control, dict) else None


def _breakpoints(body: dict[str, Any]) -> list[tuple[str, int, str]]:
    """``(digest, tokens, ttl)`` of each prefix ending in a ``cache_control`` block."""
    marks = []
    prefix: list[Any] = [body["model"]]
    tokens = OVERHEAD
    for item, control in _segments(body):
        prefix.append(item)
        tokens += len(_text_of([item[1]] if isinstance(item[1], dict) else item[1]).split())
        if control is not None:
            digest = hashlib.sha256(json.dumps(prefix, sort_keys=True).encode()).hexdigest()
            marks.append((digest, tokens, str(control.get("ttl", "5m"))))
    return marks


def _cache_problem(body: dict[str, Any]) -> str | None:
    controls = [c for _item, c in _segments(body) if c is not None]
    if len(controls) > 4:
        return f"A maximum of 4 blocks with cache_control may be provided. Found {len(controls)}."
    for control in controls:
        if control.get("type") != "ephemeral" or control.get("ttl", "5m") not in ("5m", "1h"):
            return f"cache_control: invalid value {control!r}"
    return None


def _limit(body: dict[str, Any], text: str) -> tuple[str, str]:
    words = text.split(" ")
    if body["max_tokens"] < len(words):
        return " ".join(words[: body["max_tokens"]]), "max_tokens"
    return text, "end_turn"


def _message(
    body: dict[str, Any], content: list[Any], reason: str | None, out: int, usage: Any
) -> Any:
    usage = {**usage, "output_tokens": out}
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": reason,
        "stop_sequence": None,
        "usage": usage,
    }


def _frames(body: dict[str, Any], text: str, reason: str, usage: Any) -> list[str]:
    start = _message(body, [], None, 1, usage)
    frames = [sse({"type": "message_start", "message": start}, "message_start")]
    index = 0
    if body.get("thinking"):
        frames += _block(0, {"type": "thinking", "thinking": ""}, "thinking", ["Let me think."])
        index = 1
    frames += _block(index, {"type": "text", "text": ""}, "text", chunks_of(text))
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": reason, "stop_sequence": None},
        "usage": {"output_tokens": len(text.split())},
    }
    frames += [sse(delta, "message_delta"), sse({"type": "message_stop"}, "message_stop")]
    return frames


def _block(index: int, start: dict[str, Any], kind: str, pieces: list[str]) -> list[str]:
    frames = [
        sse(
            {"type": "content_block_start", "index": index, "content_block": start},
            "content_block_start",
        )
    ]
    if index == 0:
        frames.append(sse({"type": "ping"}, "ping"))
    for piece in pieces:
        delta = {"type": f"{kind}_delta", kind: piece}
        frames.append(
            sse(
                {"type": "content_block_delta", "index": index, "delta": delta},
                "content_block_delta",
            )
        )
    frames.append(sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    return frames


def _in_stream(fault: str) -> str:
    if fault == "malformed":
        return 'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'
    if fault == "wrong_shape":  # valid JSON, but the delta is a string, not an object
        return sse(
            {"type": "content_block_delta", "index": 0, "delta": "oops"}, "content_block_delta"
        )
    return sse(error_body(529, "", "Overloaded"), "error")


def _content(body: dict[str, Any], text: str) -> list[Any]:
    blocks: list[Any] = []
    if body.get("thinking"):
        blocks.append({"type": "thinking", "thinking": "Let me think.", "signature": "sig"})
    blocks.append({"type": "text", "text": text})
    return blocks


def create_app(plan: FaultPlan, *, key: str = DEFAULT_KEY, cache_min_tokens: int = 1024) -> FastAPI:
    """The fake Anthropic API (``cache_min_tokens``: the shortest cacheable prefix)."""
    app = FastAPI()
    cache = PromptCache(cache_min_tokens)

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        await record(plan, request)
        early = await before_reply(plan, plan.take(), error_body, overloaded_status=529)
        if early is not None:
            return early
        denied = _check_headers(request, key)
        if denied is not None:
            return denied
        data = [
            {"type": "model", "id": m, "display_name": m.title(), "created_at": "2025-01-01"}
            for m in MODELS
        ]
        return JSONResponse(
            {"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}
        )

    @app.post("/v1/messages/count_tokens")
    async def count_tokens(request: Request) -> Response:
        entry = await record(plan, request)
        early = await before_reply(plan, plan.tokenize_fault, error_body, overloaded_status=529)
        if early is not None:
            return early
        denied = _check_headers(request, key) or _validate_count(entry["body"])
        if denied is not None:
            return denied
        entry["completed"] = True
        return JSONResponse({"input_tokens": _prompt_tokens(entry["body"])})

    @app.post("/v1/messages")
    async def messages(request: Request) -> Response:
        entry = await record(plan, request)
        fault = plan.take()
        early = await before_reply(plan, fault, error_body, overloaded_status=529)
        if early is not None:
            return early
        denied = _check_headers(request, key) or _validate(entry["body"])
        if denied is not None:
            return denied
        body = entry["body"]
        problem = _cache_problem(body)
        if problem:
            return _fail(400, problem)
        usage = cache.usage(body)
        text, reason = _limit(body, _reply_text(body))
        if not body.get("stream"):
            entry["completed"] = True
            message = _message(body, _content(body, text), reason, len(text.split()), usage)
            return JSONResponse(message)
        frames = _frames(body, text, reason, usage)
        return sse_response(plan, entry, frames, fault, _in_stream, fault_at=4)

    return app
