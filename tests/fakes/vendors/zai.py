"""Z.AI's API as documented: ``/api/paas/v4``, no model list, errors
``{"error": {"code": "NNNN", "message"}}`` (1000 auth, 1211 model, 1214 parameter, 1302
rate, 1113 balance); temperature and top_p in [0, 1]; one stop word; GLM-4.6 streams its
thinking as ``reasoning_content``."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Refusal, Vendor

KEY = "zai-fake-0123456789abcdef.secret"
CODES = {400: "1214", 401: "1000", 429: "1302", 500: "500"}


def error(status: int, message: str) -> dict[str, Any]:
    """Z.AI's error body."""
    return {"error": {"code": CODES.get(status, "500"), "message": message}}


def refuse(body: dict[str, Any]) -> Refusal | None:
    """Z.AI's parameter checks."""
    for name in ("temperature", "top_p"):
        if not 0 <= body.get(name, 0) <= 1:
            return (400, f"Invalid parameter: {name} must be in [0, 1]")
    if len(body.get("stop") or []) > 1:
        return (400, "Invalid parameter: stop supports a single stop word")
    thinking = body.get("thinking", {"type": "enabled"})
    if thinking.get("type") not in ("enabled", "disabled"):
        return (400, "Invalid parameter: thinking.type")
    return None


VENDOR = Vendor(
    "zai",
    KEY,
    ("glm-4.6", "glm-4.5-air"),
    prefix="/api/paas/v4",
    error=error,
    refuse=refuse,
    reasoning=frozenset({"glm-4.6"}),
    models_path=None,
    unknown_model=(400, "Unknown Model, please check the model code."),
    bad_key=(401, "Authorization Token Invalid"),
)

FAKE = FlavourFake(VENDOR, "glm-4.6", path="/api/paas/v4")
