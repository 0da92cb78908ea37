"""Cloudflare Workers AI as documented: OpenAI-compatible chat under
``/client/v4/accounts/{id}/ai/v1``, models from ``/ai/models/search``, every error in
Cloudflare's envelope with its internal code (10000 authentication, 5007 no such model,
3036 daily allocation used up...)."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Vendor

KEY = "cf-fake-token-0123456789abcdef"
ACCOUNT = "0123456789abcdef0123456789abcdef"
ROOT = f"/client/v4/accounts/{ACCOUNT}/ai"
CODES = {400: 5007, 401: 10000, 403: 3023, 404: 3042, 429: 3036, 500: 3043, 503: 3040}


def envelope(status: int, message: str) -> dict[str, Any]:
    """Cloudflare's error envelope."""
    code = CODES.get(status, 3043)
    return {"success": False, "errors": [{"code": code, "message": message}], "result": None}


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
)

FAKE = FlavourFake(VENDOR, "@cf/meta/llama-3.1-8b-instruct", path=f"{ROOT}/v1")
