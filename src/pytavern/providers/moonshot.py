"""Moonshot AI (Kimi): an OpenAI-compatible flavour whose temperature tops out at 1.

Quirk: Moonshot refuses a ``temperature`` above 1 (OpenAI's scale goes to 2), so a
higher setting is sent as 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://platform.moonshot.ai/console/api-keys"
MAX_TEMPERATURE = 1.0


def body_fields(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with the temperature on Moonshot's 0-1 range."""
    if body.get("temperature", 0) > MAX_TEMPERATURE:
        return {**body, "temperature": MAX_TEMPERATURE}
    return body


FLAVOUR = wire.Flavour(
    "moonshot",
    wire.OPENAI_SAMPLERS,
    body=body_fields,
    refine_error=vendor_advice(
        "moonshot",
        "Moonshot",
        KEY_PAGE,
        "MOONSHOT_API_KEY",
        notes={
            429: "Moonshot's rate or concurrency limit for this account was reached, or "
            "the balance is used up: wait, or top up on the Moonshot console",
        },
    ),
)

SPEC = openai_flavour(
    "moonshot",
    "Moonshot AI (Kimi)",
    default_url="https://api.moonshot.ai/v1",
    key_env="MOONSHOT_API_KEY",
    flavour=FLAVOUR,
    default_model="kimi-k2-0905-preview",
)
