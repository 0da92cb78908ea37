"""CometAPI's API: OpenAI-compatible routes; errors
``{"error": {"message", "type": "comet_api_error", "code"}}``."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Vendor

KEY = "sk-fake-comet-0123456789"


def error(status: int, message: str) -> dict[str, Any]:
    """CometAPI's error body."""
    return {"error": {"message": message, "type": "comet_api_error", "code": str(status)}}


VENDOR = Vendor(
    "cometapi",
    KEY,
    ["gpt-4o-mini", "claude-3-5-haiku-20241022"],
    prefix="/v1",
    error=error,
    unknown_model=[503, "No available channel for model {model} under group default"],
    bad_key=[401, "Invalid token"],
)

FAKE = FlavourFake(VENDOR, "gpt-4o-mini", path="/v1")
