"""DeepSeek's API as documented: OpenAI-shaped errors; 402 when the balance is out, 422 for
an invalid parameter; ``deepseek-reasoner`` streams ``reasoning_content`` before the reply
and refuses successive messages of one role."""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Refusal, Vendor

KEY = "sk-fake-deepseek-0123456789"
BROKE_MARKER = "[no balance]"


def refuse(body: dict[str, Any]) -> Refusal | None:
    """402 for a prompt asking to spend an empty balance; 422 for DeepSeek's bounds."""
    if any(BROKE_MARKER in str(m.get("content")) for m in body["messages"]):
        return (402, "Insufficient Balance")
    roles = [m.get("role") for m in body["messages"] if m.get("role") != "system"]
    successive = any(a == b for a, b in itertools.pairwise(roles))
    if body["model"] == "deepseek-reasoner" and successive:
        return (400, "deepseek-reasoner does not support successive user or assistant messages")
    if len(body.get("stop") or []) > 16:
        return (422, "stop: at most 16 sequences")
    temperature = body.get("temperature", 1)
    if not 0 <= temperature <= 2:
        return (422, "temperature: must be between 0 and 2")
    return None


VENDOR = Vendor(
    "deepseek",
    KEY,
    ("deepseek-chat", "deepseek-reasoner"),
    refuse=refuse,
    reasoning=frozenset({"deepseek-reasoner"}),
    unknown_model=(400, "Model Not Exist"),
    bad_key=(401, "Authentication Fails, Your api key: ****WRONG is invalid"),
)

FAKE = FlavourFake(VENDOR, "deepseek-chat")
