"""Electron Hub: a router with an OpenAI-compatible API (keys start with ``ek-``); models
that think stream ``reasoning_content``, shown as reasoning.
"""

from __future__ import annotations

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://playground.electronhub.ai/console (API Keys)"

FLAVOUR = wire.Flavour(
    "electronhub",
    wire.OPENAI_SAMPLERS,
    refine_error=vendor_advice(
        "electronhub",
        "Electron Hub",
        KEY_PAGE,
        "ELECTRONHUB_API_KEY",
        notes={
            402: "The Electron Hub balance or the key's allocated amount is used up: add "
            "credits or raise the key's limit on the console",
        },
    ),
)

SPEC = openai_flavour(
    "electronhub",
    "Electron Hub",
    default_url="https://api.electronhub.ai/v1",
    key_env="ELECTRONHUB_API_KEY",
    flavour=FLAVOUR,
    default_model="gpt-4o-mini",
)
