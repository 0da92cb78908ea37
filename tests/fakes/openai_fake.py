"""A fake OpenAI Chat Completions server (also OpenRouter-shaped) for provider tests.

Routes live under ``/v1`` (``GET /v1/models``, ``POST /v1/chat/completions``), as on
api.openai.com. It validates what the real API validates (bearer key, known model,
non-empty messages with valid roles, no ``max_tokens``/temperature for reasoning models),
answers with real error bodies ``{"error": {"message", "type", "param", "code"}}``, and
streams real ``chat.completion.chunk`` frames, a usage chunk when
``stream_options.include_usage`` is set, and ``data: [DONE]``. Besides the common faults
(``FaultPlan``), ``abort`` ends a whole stream with ``finish_reason: "abort"``, as vLLM does
for a request its engine dropped.

``POST /v1/embeddings`` answers deterministic vectors (``fake_vector``: the text's words
hashed into 16 counts, so equal texts get equal vectors), as floats or as base64 float32
(``encoding_format``, which the official SDK asks for by default). ``EMBEDDING_FAULTS`` are
wrong answers of the kind servers send; the llama.cpp and Ollama fakes use them too.
"""

from __future__ import annotations

import base64
import struct
import time
import zlib
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.chat_common import (
    before_reply,
    chunks_of,
    echo_text,
    record,
    sse,
    sse_response,
)
from tests.fakes.server import FaultPlan

DEFAULT_KEY = "sk-fake-openai-0123456789abcdef"
MODELS = ("gpt-4o-mini", "o3-mini", "thinker")
ROLES = {"system", "user", "assistant", "developer", "tool"}
EMBEDDING_MODELS = ("text-embedding-3-small", "text-embedding-3-large")
EMBEDDING_DIMS = 16
EMBEDDING_FAULTS = {
    "reversed": "the data items in reverse order (their indexes kept), as servers may send",
    "short": "one vector fewer than the texts",
    "mixed_sizes": "the last vector one number shorter",
    "small_dims": "every vector of the answer 8 numbers long (a different size than others')",
    "not_numbers": "the first vector's numbers as strings",
    "per_token": "one vector per word for each text, as llama-cpp-python sends for a model "
    "without pooling",
    "no_data": "no list of vectors at all",
}
"""Embeddings faults (``FaultPlan.arm``) and what the answer then holds."""


def error_body(status: int, kind: str, message: str) -> dict[str, Any]:
    """OpenAI's error body."""
    types = {401: "invalid_request_error", 404: "invalid_request_error", 429: "requests"}
    code = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}
    return {
        "error": {
            "message": message,
            "type": types.get(status, "server_error" if status >= 500 else "invalid_request_error"),
            "param": None,
            "code": code.get(status),
        }
    }


def _fail(status: int, message: str) -> JSONResponse:
    return JSONResponse(error_body(status, "", message), status_code=status)


def _auth_error(request: Request, key: str) -> JSONResponse | None:
    given = request.headers.get("authorization", "")
    if given == f"Bearer {key}":
        return None
    if not given:
        return _fail(401, "You didn't provide an API key.")
    shown = given.removeprefix("Bearer ")
    masked = f"{shown[:3]}***{shown[-4:]}" if len(shown) > 8 else "***"
    return _fail(401, f"Incorrect API key provided: {masked}.")


def _validate(body: Any) -> JSONResponse | None:
    if not isinstance(body, dict):
        return _fail(400, "We could not parse the JSON body of your request.")
    if body.get("model") not in MODELS:
        return _fail(404, f"The model `{body.get('model')}` does not exist.")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return _fail(400, "'messages' must contain at least one message.")
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return _fail(400, "Invalid value for 'role'.")
    if body["model"].startswith("o") and "max_tokens" in body:
        return _fail(
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
        )
    refused = ("temperature", "top_p", "frequency_penalty", "presence_penalty", "stop")
    for name in refused if body["model"].startswith("o") else ():
        if name in body:
            return _fail(400, f"Unsupported parameter: '{name}' is not supported with this model.")
    return None


def _last_user(body: dict[str, Any]) -> str:
    users = [m.get("content", "") for m in body["messages"] if m.get("role") == "user"]
    return str(users[-1]) if users else ""


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
    completion = len(text.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _finish(body: dict[str, Any], text: str) -> tuple[str, str]:
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    words = text.split(" ")
    if isinstance(limit, int) and limit < len(words):
        return " ".join(words[:limit]), "length"
    return text, "stop"


def _frames(body: dict[str, Any], text: str, reason: str) -> list[str]:
    model = body["model"]
    frames = [sse(_chunk(model, {"role": "assistant", "content": ""}))]
    if model == "thinker":
        frames.append(sse(_chunk(model, {"reasoning_content": "Thinking about it."})))
    frames += [sse(_chunk(model, {"content": piece})) for piece in chunks_of(text)]
    frames.append(sse(_chunk(model, {}, reason)))
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {**_chunk(model, {}), "choices": [], "usage": _usage(body, text)}
        frames.append(sse(usage))
    frames.append("data: [DONE]\n\n")
    return frames


def _in_stream(fault: str) -> str:
    if fault == "malformed":
        return 'data: {"id": "chatcmpl-fake", "choices": [\n\n'
    return sse(error_body(500, "server", "The server had an error while processing"))


def _completion(body: dict[str, Any], text: str, reason: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if body["model"] == "thinker":
        message["reasoning_content"] = "Thinking about it."
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reason}],
        "usage": _usage(body, text),
    }


def fake_vector(text: str, dims: int = EMBEDDING_DIMS) -> list[float]:
    """The fake embedding of ``text``: its lower-cased words counted into ``dims`` buckets."""
    vector = [0.0] * dims
    for word in text.lower().split():
        vector[zlib.crc32(word.encode()) % dims] += 1.0
    return vector


def fake_vectors(texts: Sequence[str], fault: str | None) -> list[Any]:
    """The vectors of ``texts``, spoilt as an ``EMBEDDING_FAULTS`` fault says."""
    dims = 8 if fault == "small_dims" else EMBEDDING_DIMS
    vectors: list[Any] = [fake_vector(text, dims) for text in texts]
    if fault == "short":
        vectors.pop()
    elif fault == "mixed_sizes":
        vectors[-1] = vectors[-1][:-1]
    elif fault == "not_numbers":
        vectors[0] = [str(x) for x in vectors[0]]
    elif fault == "per_token":
        vectors = [[fake_vector(word) for word in text.split()] for text in texts]
    return vectors


def embeddings_answer(
    model: str, texts: Sequence[str], fault: str | None, encoding_format: str = "float"
) -> dict[str, Any]:
    """An OpenAI embeddings answer (``object: list``) for ``texts``."""
    data = [
        {"object": "embedding", "index": index, "embedding": _encoded(vector, encoding_format)}
        for index, vector in enumerate(fake_vectors(texts, fault))
    ]
    if fault == "reversed":
        data.reverse()
    tokens = sum(len(text.split()) for text in texts)
    answer: dict[str, Any] = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    if fault == "no_data":
        del answer["data"]
    return answer


def _encoded(vector: Any, encoding_format: str) -> Any:
    """``vector`` as sent: a list of floats, or base64 of little-endian float32."""
    if encoding_format != "base64" or not all(isinstance(x, float) for x in vector):
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def embedding_inputs(body: Any) -> list[str] | None:
    """The texts of an embeddings request (``input``: a string or a list of them)."""
    given = body.get("input") if isinstance(body, dict) else None
    if isinstance(given, str):
        return [given]
    if isinstance(given, list) and all(isinstance(text, str) for text in given):
        return given
    return None


def _validate_embeddings(body: Any) -> JSONResponse | None:
    if not isinstance(body, dict):
        return _fail(400, "We could not parse the JSON body of your request.")
    if not body.get("model"):
        return _fail(400, "you must provide a model parameter")
    if body["model"] not in EMBEDDING_MODELS:
        model = body["model"]
        return _fail(404, f"The model `{model}` does not exist or you do not have access to it.")
    texts = embedding_inputs(body)
    if not texts or len(texts) > 2048 or not all(texts):
        return _fail(
            400,
            "'$.input' is invalid. Please check the API reference: "
            "https://platform.openai.com/docs/api-reference.",
        )
    if body.get("encoding_format", "float") not in ("float", "base64"):
        return _fail(400, "Invalid value for 'encoding_format'.")
    return None


def create_app(
    plan: FaultPlan, *, key: str = DEFAULT_KEY, prefix: str = "/v1", chunk_delay: float = 0.01
) -> FastAPI:
    """The fake OpenAI API; ``prefix`` is where routes live (``/api/v1`` for OpenRouter).

    ``chunk_delay`` is the pause after each streamed chunk (raise it for a slow stream).
    """
    app = FastAPI()

    @app.get(f"{prefix}/models")
    async def models(request: Request) -> Response:
        await record(plan, request)
        fault = plan.take()
        early = await before_reply(plan, fault, error_body)
        if early is not None:
            return early
        denied = _auth_error(request, key)
        if denied is not None:
            return denied
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in MODELS]
        return JSONResponse({"object": "list", "data": data})

    @app.post(f"{prefix}/chat/completions")
    async def chat(request: Request) -> Response:
        entry = await record(plan, request)
        fault = plan.take()
        early = await before_reply(plan, fault, error_body)
        if early is not None:
            return early
        denied = _auth_error(request, key) or _validate(entry["body"])
        if denied is not None:
            return denied
        body = entry["body"]
        text, reason = _finish(body, echo_text(_last_user(body)))
        if fault == "abort":  # vLLM's engine dropped the request: the stream ends "abort"
            fault, reason = None, "abort"
        if not body.get("stream"):
            entry["completed"] = True
            return JSONResponse(_completion(body, text, reason))
        frames = _frames(body, text, reason)
        return sse_response(plan, entry, frames, fault, _in_stream, delay=chunk_delay)

    @app.post(f"{prefix}/embeddings")
    async def embeddings(request: Request) -> Response:
        entry = await record(plan, request)
        fault = plan.take()
        early = await before_reply(plan, fault, error_body)
        if early is not None:
            return early
        denied = _auth_error(request, key) or _validate_embeddings(entry["body"])
        if denied is not None:
            return denied
        body = entry["body"]
        texts = embedding_inputs(body) or []
        encoding = body.get("encoding_format", "float")
        answer = embeddings_answer(body["model"], texts, fault, encoding)
        entry["completed"] = True
        return JSONResponse(answer)

    return app
