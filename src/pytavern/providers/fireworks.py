"""Fireworks AI: an OpenAI-compatible flavour at ``/inference/v1`` that takes the
open-model samplers too (``top_k``, ``min_p``, ``repetition_penalty``...).
"""

from __future__ import annotations

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://fireworks.ai/account/api-keys"

FLAVOUR = wire.Flavour(
    "fireworks",
    wire.EXTENDED_SAMPLERS,
    refine_error=vendor_advice(
        "fireworks",
        "Fireworks",
        KEY_PAGE,
        "FIREWORKS_API_KEY",
        notes={
            412: "The Fireworks account needs a payment method or credits for this "
            "model: see https://fireworks.ai/account/billing",
        },
    ),
)

SPEC = openai_flavour(
    "fireworks",
    "Fireworks AI",
    default_url="https://api.fireworks.ai/inference/v1",
    key_env="FIREWORKS_API_KEY",
    flavour=FLAVOUR,
    default_model="accounts/fireworks/models/llama-v3p1-8b-instruct",
)
