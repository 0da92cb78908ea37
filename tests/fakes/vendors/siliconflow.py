"""SiliconFlow's API as documented: errors ``{"code": NNNNN, "message", "data": null}``
(20012 model does not exist, 20015 invalid parameter...); Qwen3 streams
``reasoning_content``."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Vendor

KEY = "sk-fake-siliconflow-0123456789"
CODES = {400: 20015, 401: 20016, 404: 20012, 429: 50603}


def error(status: int, message: str) -> dict[str, Any]:
    """SiliconFlow's error body."""
    return {"code": CODES.get(status, 50500), "message": message, "data": None}


VENDOR = Vendor(
    "siliconflow",
    KEY,
    ["Qwen/Qwen3-8B", "deepseek-ai/DeepSeek-V3"],
    prefix="/v1",
    error=error,
    reasoning=frozenset({"Qwen/Qwen3-8B"}),
    unknown_model=[400, "Model does not exist. Please check it carefully."],
    bad_key=[401, "Invalid token"],
)

FAKE = FlavourFake(VENDOR, "Qwen/Qwen3-8B", path="/v1")
