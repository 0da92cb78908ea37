"""Chutes' API: OpenAI-compatible routes, errors ``{"detail": message}`` (FastAPI's
shape); 503 when no instance runs the model."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Vendor

KEY = "cpk_fake0123456789abcdef"


def error(status: int, message: str) -> dict[str, Any]:
    """Chutes' error body."""
    return {"detail": message}


VENDOR = Vendor(
    "chutes",
    KEY,
    ["deepseek-ai/DeepSeek-V3-0324", "Qwen/Qwen3-32B"],
    prefix="/v1",
    error=error,
    unknown_model=[404, "model not found: {model}"],
    bad_key=[401, "Invalid token."],
)

FAKE = FlavourFake(VENDOR, "deepseek-ai/DeepSeek-V3-0324", path="/v1")
