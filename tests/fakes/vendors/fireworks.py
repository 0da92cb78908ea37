"""Fireworks' API as documented: ``/inference/v1``, errors
``{"error": {"object": "error", "type", "message"}}``; model ids are account paths."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Vendor

KEY = "fw_fake0123456789abcdef"


def error(status: int, message: str) -> dict[str, Any]:
    """Fireworks' error body."""
    kind = "internal_server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"object": "error", "type": kind, "message": message}}


VENDOR = Vendor(
    "fireworks",
    KEY,
    [
        "accounts/fireworks/models/llama-v3p1-8b-instruct",
        "accounts/fireworks/models/qwen3-235b-a22b",
    ],
    prefix="/inference/v1",
    error=error,
    unknown_model=[404, "Model not found, inaccessible, and/or not deployed"],
    bad_key=[401, "The API key you provided is invalid."],
)

FAKE = FlavourFake(VENDOR, "accounts/fireworks/models/llama-v3p1-8b-instruct", path="/inference/v1")
