"""Pollinations' text API: chat under ``/openai``, no key, models at ``/models`` as a list
of ``{"name", "description"}``; OpenAI-shaped errors, 429 for the anonymous tier's pace."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Vendor


def model_list(models: tuple[str, ...]) -> Any:
    """Pollinations' ``/models`` answer."""
    return [{"name": m, "description": f"{m} (fake)", "tier": "anonymous"} for m in models]


VENDOR = Vendor(
    "pollinations",
    None,
    ("openai", "mistral"),
    prefix="/openai",
    models_path="//models",
    models_answer=model_list,
    unknown_model=(404, "Model not found: {model}"),
)

FAKE = FlavourFake(VENDOR, "openai", path="/openai")
