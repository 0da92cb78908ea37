"""AI/ML API: a router with an OpenAI-compatible API. Its errors are NestJS-shaped
(``{"statusCode", "message", "error"}``): the ``message`` is read for the error text.
"""

from __future__ import annotations

from typing import Any

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://aimlapi.com/app/keys"


def nest_message(body: Any) -> str | None:
    """The ``message`` of a NestJS error body (its ``error`` is only the status's name)."""
    if isinstance(body, dict) and "statusCode" in body and isinstance(body.get("message"), str):
        return str(body["message"])
    return None


FLAVOUR = wire.Flavour(
    "aimlapi",
    wire.OPENAI_SAMPLERS,
    refine_error=vendor_advice(
        "aimlapi",
        "AI/ML API",
        KEY_PAGE,
        "AIMLAPI_API_KEY",
        notes={
            403: "AI/ML API refused the request: the key is wrong (create one at "
            "https://aimlapi.com/app/keys) or the account has no credits left for "
            "this model (see https://aimlapi.com/app/billing)",
        },
        detail=nest_message,
    ),
)

SPEC = openai_flavour(
    "aimlapi",
    "AI/ML API",
    default_url="https://api.aimlapi.com/v1",
    key_env="AIMLAPI_API_KEY",
    flavour=FLAVOUR,
    default_model="gpt-4o-mini",
)
