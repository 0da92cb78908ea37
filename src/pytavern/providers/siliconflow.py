"""SiliconFlow: an OpenAI-compatible flavour for open models, taking ``top_k`` and
``min_p`` too; reasoning models (Qwen3, DeepSeek-R1) stream ``reasoning_content``, shown as
reasoning.
"""

from __future__ import annotations

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://cloud.siliconflow.com/account/ak"

FLAVOUR = wire.Flavour(
    "siliconflow",
    wire.OPENAI_SAMPLERS | {"top_k", "min_p"},
    refine_error=vendor_advice(
        "siliconflow",
        "SiliconFlow",
        KEY_PAGE,
        "SILICONFLOW_API_KEY",
        notes={
            402: "The SiliconFlow account's balance is used up: top up at "
            "https://cloud.siliconflow.com/expensebill",
        },
    ),
)

SPEC = openai_flavour(
    "siliconflow",
    "SiliconFlow",
    default_url="https://api.siliconflow.com/v1",
    key_env="SILICONFLOW_API_KEY",
    flavour=FLAVOUR,
    default_model="Qwen/Qwen3-8B",
)
