"""MiniMax's API as documented: no model list; errors carry
``base_resp: {status_code, status_msg}`` (1004 authentication, 1008 insufficient balance,
1002 rate limit, 2013 invalid parameters); temperature in (0, 1]; MiniMax-M2 opens its
text with a ``<think>`` block."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Refusal, Vendor

KEY = "eyJfake-minimax-0123456789"
CODES = {400: 2013, 401: 1004, 402: 1008, 429: 1002}


def error(status: int, message: str) -> dict[str, Any]:
    """MiniMax's error body."""
    return {"base_resp": {"status_code": CODES.get(status, 1000), "status_msg": message}}


def refuse(body: dict[str, Any]) -> Refusal | None:
    """MiniMax's temperature range."""
    if not 0 < body.get("temperature", 1) <= 1:
        return (400, "invalid params, temperature out of range (0, 1]")
    return None


VENDOR = Vendor(
    "minimax",
    KEY,
    ("MiniMax-M2", "MiniMax-Text-01"),
    error=error,
    refuse=refuse,
    models_path=None,
    think_in_text=frozenset({"MiniMax-M2"}),
    unknown_model=(400, "invalid params, unknown model '{model}'"),
    bad_key=(401, "login fail: Please carry the API secret key in the 'Authorization' field"),
)

FAKE = FlavourFake(VENDOR, "MiniMax-M2")
