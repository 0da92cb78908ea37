"""AI21 Studio (Jamba): an OpenAI-compatible flavour at ``/studio/v1``.

Jamba takes temperature, top_p, max_tokens and stop only (no penalties, no seed). AI21
has no model list: ``test`` sends a 1-token request with the connection's model.
"""

from __future__ import annotations

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour
from pytavern.providers.spec import Capabilities

KEY_PAGE = "https://studio.ai21.com/account/api-key"

FLAVOUR = wire.Flavour(
    "ai21",
    frozenset({"temperature", "top_p", "max_tokens", "stop"}),
    probe_by_generating=True,
    refine_error=vendor_advice(
        "ai21",
        "AI21",
        KEY_PAGE,
        "AI21_API_KEY",
        notes={
            422: "AI21 refused a parameter: check the model name (jamba-mini, jamba-large)"
            " and the sampler settings",
        },
    ),
)

SPEC = openai_flavour(
    "ai21",
    "AI21 (Jamba)",
    default_url="https://api.ai21.com/studio/v1",
    key_env="AI21_API_KEY",
    flavour=FLAVOUR,
    default_model="jamba-mini",
    capabilities=Capabilities(model_list=False),
)
