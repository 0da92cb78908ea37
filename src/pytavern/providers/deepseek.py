"""DeepSeek: an OpenAI-compatible flavour whose reasoner streams its thinking apart.

``deepseek-reasoner`` sends ``reasoning_content`` in its stream deltas (and its answer):
the shared delta parser turns it into ``ReasoningDelta`` events, shown as reasoning and
never mixed into the reply. The reasoner ignores temperature, top_p and the penalties,
which are still sent (DeepSeek accepts them). A 402 means the account ran out of balance.
"""

from __future__ import annotations

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://platform.deepseek.com/api_keys"
TOP_UP_PAGE = "https://platform.deepseek.com/top_up"

FLAVOUR = wire.Flavour(
    "deepseek",
    wire.OPENAI_SAMPLERS,
    stop_limit=16,
    refine_error=vendor_advice(
        "deepseek",
        "DeepSeek",
        KEY_PAGE,
        "DEEPSEEK_API_KEY",
        notes={
            402: f"The DeepSeek account has no balance left: add funds at {TOP_UP_PAGE}",
            422: "DeepSeek refused a parameter: check the sampler settings and the model "
            "(deepseek-chat or deepseek-reasoner)",
        },
    ),
)

SPEC = openai_flavour(
    "deepseek",
    "DeepSeek",
    default_url="https://api.deepseek.com/v1",
    key_env="DEEPSEEK_API_KEY",
    flavour=FLAVOUR,
    default_model="deepseek-chat",
)
