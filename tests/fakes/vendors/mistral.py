"""Mistral's API as its error glossary documents it: every error is
``{"object": "error", "message", "type", "param", "code"}``; a field the schema does not
define is refused with 422 (``extra_forbidden``); a final assistant message must carry
``prefix: true``."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Refusal, Vendor

KEY = "mistral-fake-0123456789abcdef"
FIELDS = {
    "model", "messages", "stream", "temperature", "top_p", "max_tokens", "stop",
    "random_seed", "presence_penalty", "frequency_penalty", "safe_prompt", "n",
    "response_format", "tools", "tool_choice", "prediction", "parallel_tool_calls",
}  # fmt: skip
TYPES = {401: "authentication_error", 429: "rate_limit_error"}


def error(status: int, message: str) -> dict[str, Any]:
    """Mistral's error body."""
    kind = TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"object": "error", "message": message, "type": kind, "param": None, "code": None}


def refuse(body: dict[str, Any]) -> Refusal | None:
    """Mistral's schema checks."""
    extra = sorted(set(body) - FIELDS)
    if extra:
        return (422, f"body.{extra[0]}: Extra inputs are not permitted")
    last = body["messages"][-1] if body["messages"] else {}
    if last.get("role") == "assistant" and last.get("prefix") is not True:
        return (
            400,
            "Expected last role User or Tool (or Assistant with prefix True) for serving "
            "but got assistant",
        )
    return None


VENDOR = Vendor(
    "mistral",
    KEY,
    ("mistral-small-latest", "mistral-large-latest", "open-mistral-nemo"),
    error=error,
    refuse=refuse,
    unknown_model=(400, "Invalid model: {model}"),
    bad_key=(401, "Unauthorized"),
)

FAKE = FlavourFake(VENDOR, "mistral-small-latest")
