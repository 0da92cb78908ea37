"""AI/ML API's API: OpenAI-compatible routes; errors
``{"statusCode": N, "message": text, "error": reason}`` (NestJS), 403 for a wrong key."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Vendor

KEY = "aiml-fake-0123456789abcdef"
REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}


def error(status: int, message: str) -> dict[str, Any]:
    """AI/ML API's error body."""
    reason = REASONS.get(status, "Internal Server Error")
    return {"statusCode": status, "message": message, "error": reason}


VENDOR = Vendor(
    "aimlapi",
    KEY,
    ["gpt-4o-mini", "deepseek/deepseek-chat"],
    prefix="/v1",
    error=error,
    unknown_model=[400, "Invalid model: {model}"],
    bad_key=[403, "Invalid API key or insufficient credits"],
)

FAKE = FlavourFake(VENDOR, "gpt-4o-mini", path="/v1")
