"""xAI (Grok): an OpenAI-compatible flavour whose reasoning models refuse some samplers.

Quirks: the reasoning models (``grok-3-mini``, ``grok-4``, ``grok-code-fast``...) refuse
``presence_penalty``, ``frequency_penalty`` and ``stop``, so those are left out for them;
``grok-3-mini`` streams its thinking as ``reasoning_content`` (shown as reasoning) and takes
``reasoning_effort`` (option, ``low`` or ``high``). xAI refuses a wrong key with HTTP 400
("Incorrect API key provided"): that is reported as a refused key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from pytavern.errors import AuthError, ProviderError
from pytavern.providers import _openai_wire as wire
from pytavern.providers._http_errors import extract_error_message
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour
from pytavern.providers.spec import HttpOptions

KEY_PAGE = "https://console.x.ai (API Keys)"
_REASONING = re.compile(r"^grok-(?:3-mini|4|code)")
REFUSED_BY_REASONING = ("presence_penalty", "frequency_penalty", "stop")


class XaiOptions(HttpOptions):
    """xAI's connection options."""

    reasoning_effort: Literal["low", "high"] | None = Field(
        None, description="How hard grok-3-mini thinks before answering."
    )


def is_reasoning_model(model: str) -> bool:
    """True for the Grok models that reason (and refuse penalties and stop)."""
    return bool(_REASONING.match(model.lower()))


def body_fields(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` without what reasoning models refuse, with the reasoning effort."""
    if not is_reasoning_model(str(body.get("model", ""))):
        return body
    result = {k: v for k, v in body.items() if k not in REFUSED_BY_REASONING}
    if options.get("reasoning_effort") and body["model"].startswith("grok-3-mini"):
        result["reasoning_effort"] = options["reasoning_effort"]
    return result


_ADVICE = vendor_advice("xai", "xAI", KEY_PAGE, "XAI_API_KEY")


def refine_error(error: ProviderError, status: int, body: Any) -> ProviderError:
    """xAI's advice; its 400 for a wrong key becomes a refused key."""
    if status == 400 and "API key" in (extract_error_message(body) or ""):
        said = error.message.removeprefix(f"{error.provider}: ")
        error = AuthError(said, provider=error.provider, status_code=status)
        status = 401
    return _ADVICE(error, status, body)


FLAVOUR = wire.Flavour(
    "xai",
    wire.OPENAI_SAMPLERS,
    body=body_fields,
    refine_error=refine_error,
)

SPEC = openai_flavour(
    "xai",
    "xAI (Grok)",
    default_url="https://api.x.ai/v1",
    key_env="XAI_API_KEY",
    flavour=FLAVOUR,
    options=XaiOptions,
    default_model="grok-3-mini",
)
