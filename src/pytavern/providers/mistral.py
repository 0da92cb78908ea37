"""Mistral: an OpenAI-compatible flavour whose API refuses any field it does not define.

Quirks (as SillyTavern handles them): ``safe_prompt`` is sent as ``false``; the seed is
``random_seed``; ``stream_options`` is left out (Mistral refuses it with 422 and reports
usage in the last chunk anyway); a prefill (a final assistant message) is marked
``prefix: true``, which Mistral requires to continue it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://console.mistral.ai/api-keys"


def body_fields(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` as Mistral's schema takes it (see the module docstring)."""
    result = {k: v for k, v in body.items() if k not in ("seed", "stream_options")}
    result["safe_prompt"] = False
    if "seed" in body:
        result["random_seed"] = body["seed"]
    messages = result["messages"]
    if messages and messages[-1]["role"] == "assistant":
        result["messages"] = [*messages[:-1], {**messages[-1], "prefix": True}]
    return result


FLAVOUR = wire.Flavour(
    "mistral",
    wire.OPENAI_SAMPLERS,
    body=body_fields,
    refine_error=vendor_advice(
        "mistral",
        "Mistral",
        KEY_PAGE,
        "MISTRAL_API_KEY",
        notes={
            422: "Mistral refused a field or value: check the model name "
            "(`pytavern connections models NAME`) and the sampler settings",
        },
    ),
)

SPEC = openai_flavour(
    "mistral",
    "Mistral AI",
    default_url="https://api.mistral.ai/v1",
    key_env="MISTRAL_API_KEY",
    flavour=FLAVOUR,
    default_model="mistral-small-latest",
    embedding_model="mistral-embed",
)
