"""NanoGPT's API as documented: ``/api/v1``, OpenAI-shaped errors, 402 when the balance
cannot pay for the prompt."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Refusal, Vendor

KEY = "nano-fake-0123456789abcdef"
EXPENSIVE = "[expensive]"


def refuse(body: dict[str, Any]) -> Refusal | None:
    """402 for a prompt the balance cannot pay for."""
    if any(EXPENSIVE in str(m.get("content")) for m in body["messages"]):
        return (402, "Insufficient balance")
    return None


VENDOR = Vendor(
    "nanogpt",
    KEY,
    ["gpt-4o-mini", "deepseek-ai/DeepSeek-V3.1"],
    prefix="/api/v1",
    refuse=refuse,
    unknown_model=[400, "Model {model} is not available"],
    bad_key=[401, "Invalid session"],
)

FAKE = FlavourFake(VENDOR, "gpt-4o-mini", path="/api/v1")
