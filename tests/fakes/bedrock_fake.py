"""A fake Amazon Bedrock: SigV4-checked Converse API with event-stream answers.

Routes: ``GET /foundation-models`` (control plane; ``byOutputModality`` filters;
``inferenceTypesSupported`` says which need an inference profile), ``GET
/inference-profiles`` and
``POST /model/{modelId}/converse`` / ``/converse-stream`` (runtime). Every request must be
signed with AWS Signature Version 4 for service ``bedrock`` in the fake's region; the
signature is recomputed here from the path as received (raw, URI-encoded once more), the
sorted query, the signed headers and the body's SHA-256, as AWS does. Refusals are AWS's:
403 ``UnrecognizedClientException`` (unknown access key ID), 403
``InvalidSignatureException`` (signature mismatch, or a date more than 5 minutes off), 403
``AccessDeniedException`` (model not enabled), 404 ``ResourceNotFoundException``, 400
``ValidationException`` (bad body, a conversation not starting with the user or not
alternating, a model only reachable through an inference profile), 429
``ThrottlingException``; bodies are ``{"message": ...}`` with the type in
``x-amzn-ErrorType``.

A stream is ``application/vnd.amazon.eventstream``: each message framed with its prelude,
string headers (``:event-type``, ``:content-type``, ``:message-type``) and CRC32s,
payloads carrying AWS's ``p`` padding field. Faults: ``cut`` drops the connection in the
middle of a message, ``malformed`` sends a message whose checksum is wrong,
``error_in_stream`` sends a ``modelStreamErrorException`` exception message.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import struct
import time
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from tests.fakes.chat_common import before_reply, chunks_of, echo_text, record
from tests.fakes.server import FaultPlan

ACCESS_KEY_ID = "AKIAFAKE0123456789EX"
SECRET_KEY = "fake/Secret+Access0123456789abcdefKEY"
REGION = "us-east-1"
MODELS = {
    "anthropic.claude-3-5-haiku-20241022-v1:0": "Claude 3.5 Haiku",
    "us.anthropic.claude-3-5-haiku-20241022-v1:0": "US Claude 3.5 Haiku",
    "amazon.nova-lite-v1:0": "Nova Lite",
}
PROFILE_ONLY = {"anthropic.claude-3-5-haiku-20241022-v1:0"}
NOT_ENABLED = {"meta.llama3-70b-instruct-v1:0"}
EVENT_STREAM = "application/vnd.amazon.eventstream"


# --- errors -------------------------------------------------------------------------------


def aws_error(status: int, kind: str, message: str) -> JSONResponse:
    """An AWS REST-JSON error: ``{"message"}`` and the type in ``x-amzn-ErrorType``."""
    headers = {"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    return JSONResponse({"message": message}, status_code=status, headers=headers)


def error_body(status: int, kind: str, message: str) -> dict[str, Any]:
    """The body of the shared faults (429 throttling, 5xx), as Bedrock words them."""
    texts = {429: "Too many requests, please wait before trying again."}
    return {"message": texts.get(status, message)}


# --- SigV4, checked as AWS checks it -------------------------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _expected_signature(request: Request, raw: bytes, names: list[str], scope: str) -> str:
    raw_path = request.scope.get("raw_path", b"").decode() or request.url.path
    query = sorted(
        (quote(k, safe="-_.~"), quote(v, safe="-_.~"))
        for k, v in parse_qsl(request.scope.get("query_string", b"").decode(), True)
    )
    lines = [
        request.method,
        quote(raw_path, safe="/-_.~"),
        "&".join(f"{k}={v}" for k, v in query),
        *(f"{n}:{' '.join(request.headers.get(n, '').split())}" for n in names),
        "",
        ";".join(names),
        hashlib.sha256(raw).hexdigest(),
    ]
    stamp = request.headers.get("x-amz-date", "")
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
    day, region, service, _ = scope.split("/")
    key = _hmac(f"AWS4{SECRET_KEY}".encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def check_signature(request: Request, raw: bytes, session_token: str | None) -> Response | None:
    """AWS's refusal of a badly signed request, or ``None``."""
    header = request.headers.get("authorization", "")
    fields = dict(
        part.strip().split("=", 1) for part in header.removeprefix("AWS4-HMAC-SHA256 ").split(",")
        if "=" in part
    )  # fmt: skip
    credential = fields.get("Credential", "").split("/", 1)
    if not header.startswith("AWS4-HMAC-SHA256 ") or len(credential) != 2:
        return aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    if credential[0] != ACCESS_KEY_ID:
        return aws_error(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    names = fields.get("SignedHeaders", "").split(";")
    scope = credential[1]
    stamp = request.headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        signed_at = 0.0
    if abs(time.time() - signed_at) > 300:
        return aws_error(
            403,
            "InvalidSignatureException",
            f"Signature expired: {stamp} is now earlier than the allowed time.",
        )
    wrong_scope = scope != f"{stamp[:8]}/{REGION}/bedrock/aws4_request"
    unsigned = not {"host", "x-amz-date"} <= set(names)
    token = request.headers.get("x-amz-security-token")
    if session_token and (token != session_token or "x-amz-security-token" not in names):
        return aws_error(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    if (
        wrong_scope
        or unsigned
        or _expected_signature(request, raw, names, scope) != fields.get("Signature")
    ):
        return aws_error(
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        )
    return None


# --- event-stream framing --------------------------------------------------------------------


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers (type 7), prelude and checksums."""
    block = b"".join(
        bytes([len(name)])
        + name.encode()
        + b"\x07"
        + struct.pack(">H", len(value))
        + value.encode()
        for name, value in headers.items()
    )
    total = 12 + len(block) + len(payload) + 4
    prelude = struct.pack(">II", total, len(block))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + block + payload
    return body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def event(kind: str, payload: dict[str, Any]) -> bytes:
    """An ``event`` message of ``kind`` carrying ``payload`` (with AWS's ``p`` padding)."""
    data = json.dumps({**payload, "p": "abcdefghijklmnopqrstuvwxyzABCDEF"[: 5 + len(kind)]})
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, data.encode())


def exception(kind: str, message: str) -> bytes:
    """An ``exception`` message, as Bedrock sends a failure mid-stream."""
    headers = {
        ":exception-type": kind,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, json.dumps({"message": message}).encode())


# --- the Converse API --------------------------------------------------------------------------


def _validate(model: str, body: Any) -> Response | None:
    if model in NOT_ENABLED:
        return aws_error(
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        )
    if model not in MODELS:
        return aws_error(
            404,
            "ResourceNotFoundException",
            "Could not resolve the foundation model from the provided model identifier.",
        )
    if model in PROFILE_ONLY:
        return aws_error(
            400,
            "ValidationException",
            f"Invocation of model ID {model} with on-demand throughput isn\u2019t supported. Retry "
            "your request with the ID or ARN of an inference profile that contains this model.",
        )
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not messages:
        return aws_error(
            400,
            "ValidationException",
            "The model returned the following errors: messages: at least one message is required",
        )
    roles = [m.get("role") for m in messages]
    if roles[0] != "user" or any(a == b for a, b in itertools.pairwise(roles)):
        return aws_error(
            400,
            "ValidationException",
            "A conversation must start with a user message and alternate between user and "
            "assistant roles. Try again with a conversation that alternates.",
        )
    for index, message in enumerate(messages):
        for block in message.get("content") or [{}]:
            if not str(block.get("text", "")).strip():
                return aws_error(
                    400,
                    "ValidationException",
                    f"The text field in the ContentBlock object at messages.{index}.content.0 is "
                    "blank. Add text to the text field, and try again.",
                )
    known = {"maxTokens", "temperature", "topP", "stopSequences"}
    if set(body.get("inferenceConfig") or {}) - known:
        return aws_error(
            400,
            "ValidationException",
            "Malformed input request: inferenceConfig has unknown fields",
        )
    return None


def _reply(body: dict[str, Any]) -> tuple[str, str]:
    users = [m for m in body["messages"] if m["role"] == "user"]
    words = echo_text(users[-1]["content"][0]["text"]).split(" ")
    limit = (body.get("inferenceConfig") or {}).get("maxTokens")
    if isinstance(limit, int) and limit < len(words):
        return " ".join(words[:limit]), "max_tokens"
    return " ".join(words), "end_turn"


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(b.get("text", "").split()) for m in body["messages"] for b in m["content"])
    out = len(text.split())
    return {"inputTokens": prompt, "outputTokens": out, "totalTokens": prompt + out}


def _frames(body: dict[str, Any], text: str, reason: str) -> list[bytes]:
    frames = [event("messageStart", {"role": "assistant"})]
    frames += [
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": p}})
        for p in chunks_of(text)
    ]
    frames.append(event("contentBlockStop", {"contentBlockIndex": 0}))
    frames.append(event("messageStop", {"stopReason": reason}))
    metrics = {"usage": _usage(body, text), "metrics": {"latencyMs": 42}}
    return [*frames, event("metadata", metrics)]


def _stream(
    plan: FaultPlan, entry: dict[str, Any], frames: list[bytes], fault: str | None
) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        try:
            for index, frame in enumerate(frames):
                if index == 2 and fault == "cut":
                    yield frame[: len(frame) // 2]
                    await asyncio.sleep(0.05)
                    raise ConnectionAbortedError("fake: stream cut")
                if index == 2 and fault == "malformed":
                    yield frame[:-4] + b"\x00\x00\x00\x00"
                    return
                if index == 2 and fault == "error_in_stream":
                    yield exception(
                        "modelStreamErrorException", "The model failed while streaming."
                    )
                    return
                if index == 2 and fault == "stall_mid":
                    await plan.stall()
                yield frame
                await asyncio.sleep(0.01)
            entry["completed"] = True
        except (asyncio.CancelledError, GeneratorExit):
            entry["disconnected"] = True
            raise

    return StreamingResponse(body(), media_type=EVENT_STREAM)


def create_app(plan: FaultPlan, *, session_token: str | None = None) -> FastAPI:
    """The fake Bedrock (control plane and runtime on one host)."""
    app = FastAPI()

    @app.get("/foundation-models")
    async def models(request: Request) -> Response:
        await record(plan, request)
        early = await before_reply(plan, plan.take(), error_body)
        denied = early or check_signature(request, b"", session_token)
        if denied is not None:
            return denied
        summaries: list[dict[str, Any]] = [
            {
                "modelId": m,
                "modelName": n,
                "providerName": m.split(".")[0].title(),
                "inputModalities": ["TEXT"],
                "outputModalities": ["TEXT"],
                "responseStreamingSupported": True,
                "inferenceTypesSupported": [
                    "INFERENCE_PROFILE" if m in PROFILE_ONLY else "ON_DEMAND"
                ],
            }
            for m, n in MODELS.items()
            if not m.startswith("us.")
        ]
        summaries.append(
            {"modelId": "amazon.titan-embed-text-v2:0", "outputModalities": ["EMBEDDING"]}
        )
        wanted = request.query_params.get("byOutputModality")
        if wanted:
            summaries = [s for s in summaries if wanted in s["outputModalities"]]
        return JSONResponse({"modelSummaries": summaries})

    @app.get("/inference-profiles")
    async def profiles(request: Request) -> Response:
        await record(plan, request)
        denied = check_signature(request, b"", session_token)
        if denied is not None:
            return denied
        summaries = [
            {
                "inferenceProfileId": m,
                "inferenceProfileName": n,
                "status": "ACTIVE",
                "type": "SYSTEM_DEFINED",
            }
            for m, n in MODELS.items()
            if m.startswith("us.")
        ]
        return JSONResponse({"inferenceProfileSummaries": summaries})

    @app.post("/model/{model_id}/{method}")
    async def converse(model_id: str, method: str, request: Request) -> Response:
        entry = await record(plan, request)
        fault = plan.take()
        early = await before_reply(plan, fault, error_body)
        if early is not None:
            return early
        raw = await request.body()
        model = unquote(model_id)
        denied = check_signature(request, raw, session_token) or _validate(model, entry["body"])
        if denied is not None:
            return denied
        body = entry["body"]
        text, reason = _reply(body)
        if method == "converse":
            entry["completed"] = True
            output = {"message": {"role": "assistant", "content": [{"text": text}]}}
            return JSONResponse(
                {
                    "output": output,
                    "stopReason": reason,
                    "usage": _usage(body, text),
                    "metrics": {"latencyMs": 42},
                }
            )
        if method != "converse-stream":
            return aws_error(404, "UnknownOperationException", "Unknown operation")
        return _stream(plan, entry, _frames(body, text, reason), fault)

    return app
