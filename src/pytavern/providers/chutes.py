"""Chutes: open models served on a decentralised GPU network, with an OpenAI-compatible
API at ``llm.chutes.ai/v1`` taking ``top_k``, ``min_p`` and ``repetition_penalty`` too.

Errors before the stream are FastAPI's ``{"detail": ...}``: 503 when no instance runs the
model, 429 when every instance is busy. Once a stream has begun, Chutes' router reports a
failure (every instance it tried failed, or the router did) as a bare ``{"error": "..."}``
line after the last event, outside SSE framing, then closes the body without ``[DONE]``;
an error of the inference engine itself comes framed, as OpenAI's
``data: {"error": {...}}``.
"""

from __future__ import annotations

from typing import Any

from pytavern.errors import ProviderError, UpstreamServerError
from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://chutes.ai/app/api"
MID_REPLY_PREFIX = "Unhandled exception during response stream: "
"""How Chutes' router opens the message of an error that struck after the stream began."""
MID_REPLY_HINT = (
    "What arrived was kept. Chutes could not finish the reply: continue or regenerate it "
    "in a minute, or pick another model (`pytavern connections models NAME`)"
)


def router_error(provider: str, data: dict[str, Any]) -> ProviderError | None:
    """Chutes' own error, ``{"error": "..."}`` with a string (its engines' errors are
    objects, read as OpenAI's): the router's report that the reply failed mid-stream."""
    error = data.get("error")
    if not isinstance(error, str) or not error:
        return None
    said = error.removeprefix(MID_REPLY_PREFIX)
    return UpstreamServerError(
        f"Chutes failed mid-reply: {said}", provider=provider, hint=MID_REPLY_HINT
    )


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
    answer_error=router_error,
)

SPEC = openai_flavour(
    "chutes",
    "Chutes",
    default_url="https://llm.chutes.ai/v1",
    key_env="CHUTES_API_KEY",
    flavour=FLAVOUR,
    default_model="deepseek-ai/DeepSeek-V3-0324",
)
