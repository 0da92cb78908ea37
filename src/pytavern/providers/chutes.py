"""Chutes: open models served on a decentralised GPU network, with an OpenAI-compatible
API at ``llm.chutes.ai/v1`` taking ``top_k``, ``min_p`` and ``repetition_penalty`` too.
A model with no running instance answers 503.
"""

from __future__ import annotations

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://chutes.ai/app/api"

FLAVOUR = wire.Flavour(
    "chutes",
    wire.OPENAI_SAMPLERS | {"top_k", "min_p", "repetition_penalty"},
    refine_error=vendor_advice(
        "chutes",
        "Chutes",
        KEY_PAGE,
        "CHUTES_API_KEY",
        notes={
            503: "No Chutes instance is running this model right now: try again in a "
            "minute, or pick another model (`pytavern connections models NAME`)",
        },
    ),
)

SPEC = openai_flavour(
    "chutes",
    "Chutes",
    default_url="https://llm.chutes.ai/v1",
    key_env="CHUTES_API_KEY",
    flavour=FLAVOUR,
    default_model="deepseek-ai/DeepSeek-V3-0324",
)
