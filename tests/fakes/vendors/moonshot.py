"""Moonshot's API as documented: OpenAI-shaped errors with Moonshot's types
(``invalid_authentication_error``, ``rate_limit_reached_error``...); temperature must be in
[0, 1]."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Refusal, Vendor

KEY = "sk-fake-moonshot-0123456789"
TYPES = {
    400: "invalid_request_error",
    401: "invalid_authentication_error",
    404: "resource_not_found_error",
    429: "rate_limit_reached_error",
}


def error(status: int, message: str) -> dict[str, Any]:
    """Moonshot's error body."""
    return {"error": {"message": message, "type": TYPES.get(status, "server_error")}}


def refuse(body: dict[str, Any]) -> Refusal | None:
    """Moonshot's temperature range."""
    if not 0 <= body.get("temperature", 0) <= 1:
        return (400, "Invalid request: temperature must be in [0, 1]")
    return None


VENDOR = Vendor(
    "moonshot",
    KEY,
    ("kimi-k2-0905-preview", "moonshot-v1-8k"),
    error=error,
    refuse=refuse,
    unknown_model=(404, "Not found the model {model} or Permission denied"),
    bad_key=(401, "Invalid Authentication"),
)

FAKE = FlavourFake(VENDOR, "kimi-k2-0905-preview")
