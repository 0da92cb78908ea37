"""NanoGPT: a pay-per-prompt router with an OpenAI-compatible API at ``/api/v1``; it
takes the open-model samplers too (``top_k``, ``min_p``, ``top_a``,
``repetition_penalty``).
"""

from __future__ import annotations

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://nano-gpt.com/api"

FLAVOUR = wire.Flavour(
    "nanogpt",
    wire.EXTENDED_SAMPLERS,
    refine_error=vendor_advice(
        "nanogpt",
        "NanoGPT",
        KEY_PAGE,
        "NANOGPT_API_KEY",
        notes={
            402: "The NanoGPT balance is too low for this request: add funds at "
            "https://nano-gpt.com",
        },
    ),
)

SPEC = openai_flavour(
    "nanogpt",
    "NanoGPT",
    default_url="https://nano-gpt.com/api/v1",
    key_env="NANOGPT_API_KEY",
    flavour=FLAVOUR,
    default_model="gpt-4o-mini",
)
