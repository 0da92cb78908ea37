"""xAI's API as documented: errors are ``{"code": ..., "error": message}``; reasoning
models refuse ``presence_penalty``, ``frequency_penalty`` and ``stop``; ``grok-3-mini``
streams ``reasoning_content`` and alone takes ``reasoning_effort``."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Refusal, Vendor

KEY = "xai-fake-0123456789abcdef"
CODES = {400: "Client specified an invalid argument", 401: "Unauthenticated"}


def error(status: int, message: str) -> dict[str, Any]:
    """xAI's error body."""
    return {
        "code": CODES.get(status, "Internal error" if status >= 500 else "Error"),
        "error": message,
    }


def refuse(body: dict[str, Any]) -> Refusal | None:
    """xAI's checks for reasoning models."""
    if body["model"] in ("grok-3-mini", "grok-4"):
        for name in ("presence_penalty", "frequency_penalty", "stop"):
            if name in body:
                return (400, f"Argument not supported on this model: {name}")
    if "reasoning_effort" in body and body["model"] != "grok-3-mini":
        return (400, "Argument not supported on this model: reasoning_effort")
    return None


VENDOR = Vendor(
    "xai",
    KEY,
    ("grok-3-mini", "grok-4", "grok-3"),
    error=error,
    refuse=refuse,
    reasoning=frozenset({"grok-3-mini"}),
    unknown_model=(
        404,
        "The model {model} does not exist or your team does not have access to it.",
    ),
    bad_key=(
        400,
        "Incorrect API key provided: xa***. You can obtain an API key from https://console.x.ai.",
    ),
)

FAKE = FlavourFake(VENDOR, "grok-3-mini")
