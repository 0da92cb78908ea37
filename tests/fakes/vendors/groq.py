"""Groq's OpenAI-compatible API (under ``/openai/v1``) as documented: OpenAI-shaped errors;
``logprobs``, ``logit_bias`` and ``n`` other than 1 are refused; at most 4 stop strings."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Refusal, Vendor

KEY = "gsk_fake0123456789abcdef"


def refuse(body: dict[str, Any]) -> Refusal | None:
    """Groq's checks on a request body."""
    for name in ("logprobs", "top_logprobs", "logit_bias"):
        if name in body:
            return (400, f"'{name}' : property '{name}' is unsupported")
    if body.get("n", 1) != 1:
        return (400, "'n' : number must be at most 1")
    if len(body.get("stop") or []) > 4:
        return (400, "'stop' : array must have at most 4 items")
    return None


VENDOR = Vendor(
    "groq",
    KEY,
    ("llama-3.1-8b-instant", "llama-3.3-70b-versatile"),
    prefix="/openai/v1",
    refuse=refuse,
    unknown_model=(404, "The model `{model}` does not exist or you do not have access to it."),
)

FAKE = FlavourFake(VENDOR, "llama-3.1-8b-instant", path="/openai/v1")
