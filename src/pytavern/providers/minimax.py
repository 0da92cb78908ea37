"""MiniMax: an OpenAI-compatible flavour with MiniMax's temperature range and error codes.

Quirks: temperature must be above 0 and at most 1 (0 is sent as 0.01, above 1 as 1);
errors carry MiniMax's ``base_resp`` (``status_code`` 1004: key refused, 1008: balance
used up, 1002: rate limited...), read here for the message and code; MiniMax-M2 opens its
text with a ``<think>`` block, shown as reasoning. There is no model list: ``test`` sends
a 1-token request with the connection's model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pytavern.events import StreamEvent
from pytavern.providers import _openai_wire as wire
from pytavern.providers._think_tags import split_think_tags
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import OpenAICompatProvider, openai_flavour
from pytavern.providers.spec import Capabilities
from pytavern.types import GenerationRequest

KEY_PAGE = "https://platform.minimax.io/user-center/basic-information/interface-key"
LOWEST_TEMPERATURE = 0.01


def body_fields(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with the temperature in MiniMax's (0, 1] range."""
    if "temperature" not in body:
        return body
    temperature = min(max(body["temperature"], LOWEST_TEMPERATURE), 1.0)
    return {**body, "temperature": temperature}


def base_resp_message(body: Any) -> str | None:
    """MiniMax's ``base_resp`` message and code, when the body has one."""
    base = body.get("base_resp") if isinstance(body, dict) else None
    if not isinstance(base, dict) or not base.get("status_code"):
        return None
    return f"{base.get('status_msg') or 'error'} (code {base['status_code']})"


class MiniMaxProvider(OpenAICompatProvider):
    """MiniMax: the OpenAI-compatible provider, its ``<think>`` block shown as reasoning."""

    def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        return split_think_tags(super()._stream(request))


FLAVOUR = wire.Flavour(
    "minimax",
    wire.OPENAI_SAMPLERS - {"frequency_penalty", "presence_penalty", "seed"},
    probe_by_generating=True,
    body=body_fields,
    refine_error=vendor_advice(
        "minimax",
        "MiniMax",
        KEY_PAGE,
        "MINIMAX_API_KEY",
        notes={
            402: "The MiniMax account's balance is used up (code 1008): top up on the "
            "MiniMax platform",
        },
        detail=base_resp_message,
    ),
)

SPEC = dataclasses.replace(
    openai_flavour(
        "minimax",
        "MiniMax",
        default_url="https://api.minimax.io/v1",
        key_env="MINIMAX_API_KEY",
        flavour=FLAVOUR,
        default_model="MiniMax-M2",
        capabilities=Capabilities(model_list=False),
    ),
    provider=MiniMaxProvider,
)
