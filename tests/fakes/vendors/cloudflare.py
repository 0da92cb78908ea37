"""Cloudflare Workers AI as documented: OpenAI-compatible chat under
``/client/v4/accounts/{id}/ai/v1``, models from ``/ai/models/search``, every error in
Cloudflare's envelope with its internal code (10000 authentication, 5007 no such model,
3036 daily allocation used up...). The ``capacity`` fault answers 3040 (capacity
temporarily exceeded) in the envelope with status 200, as Workers AI has been seen to; a reply that
fails mid-stream (``error_in_stream``) just ends, without ``finish_reason`` or ``[DONE]``."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Vendor

KEY = "cf-fake-token-0123456789abcdef"
ACCOUNT = "0123456789abcdef0123456789abcdef"
ROOT = f"/client/v4/accounts/{ACCOUNT}/ai"
CODES = {400: 5007, 401: 10000, 403: 3023, 404: 3042, 429: 3036, 500: 3043, 503: 3040}
CAPACITY = "Capacity temporarily exceeded, please try again."


def envelope(status: int, message: str) -> dict[str, Any]:
    """Cloudflare's error envelope."""
    return envelope_of(CODES.get(status, 3043), message)


def envelope_of(code: int, message: str) -> dict[str, Any]:
    """Cloudflare's error envelope for one error with its internal ``code``."""
    errors = [{"code": code, "message": message}]
    return {"result": None, "success": False, "errors": errors, "messages": []}


def model_search(models: tuple[str, ...]) -> Any:
    """The answer of ``/ai/models/search`` (text-generation models only)."""
    result = [
        {"name": m, "description": f"{m} (fake)", "task": {"name": "Text Generation"}}
        for m in models
    ]
    return {"success": True, "errors": [], "messages": [], "result": result}


VENDOR = Vendor(
    "cloudflare",
    KEY,
    ("@cf/meta/llama-3.1-8b-instruct", "@cf/qwen/qwq-32b"),
    prefix=f"{ROOT}/v1",
    error=envelope,
    models_path=f"/{ROOT}/models/search",
    models_answer=model_search,
    unknown_model=(400, "No such model {model} or task"),
    bad_key=(401, "Authentication error"),
    stream_failures={"error_in_stream": ""},
    fault_answers={"capacity": (200, envelope_of(3040, CAPACITY))},
)

FAKE = FlavourFake(VENDOR, "@cf/meta/llama-3.1-8b-instruct", path=f"{ROOT}/v1")
