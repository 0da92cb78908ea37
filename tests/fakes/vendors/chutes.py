"""Chutes' API: OpenAI-compatible routes, errors ``{"detail": message}`` (FastAPI's
shape); 503 when no instance runs the model.

Mid-stream, as Chutes' router does: when the instances fail after the stream began
(``error_in_stream``) it sends ``{"error": "Unhandled exception during response stream:
..."}`` as bare JSON after the last event, with no ``data:`` and no line end, and closes
the body without ``[DONE]``; an error of the inference engine (vLLM / SGLang,
``engine_error``) is passed on framed, ``data: {"error": {...}}``, then ``[DONE]``.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.chat_common import sse
from tests.fakes.openai_vendor import FlavourFake, Vendor

KEY = "cpk_fake0123456789abcdef"
ROUTER_FAILURE = "exhausted all available targets to no avail"
ENGINE_FAILURE = "EngineCore encountered an issue. See stack trace (above) for the root cause."


def error(status: int, message: str) -> dict[str, Any]:
    """Chutes' error body."""
    return {"detail": message}


def router_failure() -> str:
    """The bytes Chutes' router ends a failed stream with (compact JSON, unframed)."""
    said = f"Unhandled exception during response stream: {ROUTER_FAILURE}"
    return json.dumps({"error": said}, separators=(",", ":"))


def engine_failure() -> str:
    """An inference engine's in-stream error (vLLM's shape) and the ``[DONE]`` after it."""
    error = {"object": "error", "message": ENGINE_FAILURE, "type": "BadRequestError"}
    return sse({"error": {**error, "param": None, "code": 400}}) + "data: [DONE]\n\n"


VENDOR = Vendor(
    "chutes",
    KEY,
    ["deepseek-ai/DeepSeek-V3-0324", "Qwen/Qwen3-32B"],
    prefix="/v1",
    error=error,
    unknown_model=[404, "model not found: {model}"],
    bad_key=[401, "Invalid token."],
    stream_failures={"error_in_stream": router_failure(), "engine_error": engine_failure()},
)

FAKE = FlavourFake(VENDOR, "deepseek-ai/DeepSeek-V3-0324", path="/v1")
