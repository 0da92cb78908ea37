"""Groq: an OpenAI-compatible flavour on ``/openai/v1`` that takes at most 4 stop strings.

Quirks (as SillyTavern handles them): ``logprobs``, ``top_logprobs``, ``logit_bias`` and
``n`` are never sent (Groq refuses them); the stop list is cut to Groq's 4.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://console.groq.com/keys"
REFUSED_FIELDS = ("logprobs", "top_logprobs", "logit_bias", "n")


def body_fields(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` without the fields Groq refuses."""
    return {k: v for k, v in body.items() if k not in REFUSED_FIELDS}


FLAVOUR = wire.Flavour(
    "groq",
    wire.OPENAI_SAMPLERS,
    stop_limit=4,
    body=body_fields,
    refine_error=vendor_advice(
        "groq",
        "Groq",
        KEY_PAGE,
        "GROQ_API_KEY",
        notes={
            429: "Groq's rate limit for this model was reached (free tier limits are per "
            "minute and per day): wait, or pick another model",
        },
    ),
)

SPEC = openai_flavour(
    "groq",
    "Groq",
    default_url="https://api.groq.com/openai/v1",
    key_env="GROQ_API_KEY",
    flavour=FLAVOUR,
    default_model="llama-3.1-8b-instant",
)
