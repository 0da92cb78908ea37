"""AI21's Jamba chat API as documented: ``/studio/v1/chat/completions``, no model list,
errors ``{"detail": message}``; 422 for an invalid parameter. A stream is ``data:`` chunks
then ``data: [DONE]``, with no error event (AI21's SDK takes no other line): a reply that
fails mid-stream just ends without ``[DONE]``."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Refusal, Vendor

KEY = "ai21-fake-0123456789abcdef"


def error(status: int, message: str) -> dict[str, Any]:
    """AI21's error body."""
    return {"detail": message}


def refuse(body: dict[str, Any]) -> Refusal | None:
    """AI21's parameter checks."""
    if not 0 <= body.get("temperature", 0) <= 2:
        return (422, "temperature: Input should be less than or equal to 2")
    return None


VENDOR = Vendor(
    "ai21",
    KEY,
    ["jamba-mini", "jamba-large"],
    prefix="/studio/v1",
    error=error,
    refuse=refuse,
    models_path=None,
    unknown_model=[422, "model: Input should be 'jamba-mini' or 'jamba-large'"],
    bad_key=[401, "Forbidden: Bad or missing API token."],
    stream_failures={"error_in_stream": ""},
)

FAKE = FlavourFake(VENDOR, "jamba-mini", path="/studio/v1")
