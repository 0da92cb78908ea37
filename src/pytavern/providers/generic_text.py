"""Generic OpenAI-compatible text completions (SillyTavern's ``generic`` text type).

Any server speaking OpenAI's ``/v1/completions``: the body carries only the fields of
OpenAI's completions API (a strict server refuses any other with HTTP 400) and at most 4
stop strings (OpenAI's limit). Bearer auth when a key is set; a connection without a model
uses the first one the server lists.
"""

from __future__ import annotations

from typing import Any

from pytavern.providers._text_flavour import TextFlavourProvider
from pytavern.providers.spec import BackendSpec
from pytavern.types import GenerationRequest

OPENAI_COMPLETION_KEYS = frozenset(
    {
        "model",
        "prompt",
        "stream",
        "temperature",
        "top_p",
        "frequency_penalty",
        "presence_penalty",
        "stop",
        "seed",
        "logit_bias",
        "logprobs",
        "max_tokens",
        "n",
        "best_of",
    }
)
"""The body fields of OpenAI's completions API: the only ones sent."""


class GenericTextProvider(TextFlavourProvider):
    """A server speaking OpenAI's completions API and nothing more."""

    api = "generic"
    sampler_backend = "generic"
    service = "the OpenAI-compatible server"
    model_advice = "Pick one of the models the server serves (`pytavern connections models NAME`)"
    needs_model = True
    stop_limit = 4

    def prompt_and_params(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        """The samplers OpenAI's completions API defines, at most 4 stops."""
        prompt, params = super().prompt_and_params(request)
        return prompt, openai_fields(params)

    def extra_body(self, request: GenerationRequest) -> dict[str, Any]:
        """Nothing beyond OpenAI's fields."""
        return {}


def openai_fields(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` without the fields OpenAI's completions API does not define."""
    return {k: v for k, v in params.items() if k in OPENAI_COMPLETION_KEYS}


SPEC = BackendSpec(
    name="generic",
    label="Generic (OpenAI-compatible completions)",
    group="text",
    family="text",
    provider=GenericTextProvider,
    key_env="GENERIC_API_KEY",
    sampler_table="generic",
    needs_model=True,
)
