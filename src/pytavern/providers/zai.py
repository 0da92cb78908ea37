"""Z.AI (GLM): an OpenAI-compatible flavour at ``/api/paas/v4``.

Quirks: temperature and top_p are on a 0-1 range (higher values are sent as 1); one stop
string at most; GLM-4.5 and later think before answering, streamed as
``reasoning_content`` (shown as reasoning), switched by the option ``thinking``. Z.AI
reports a business code in its error bodies (1113: balance used up, 1211: no such
model...). There is no model list: ``test`` sends a 1-token request with the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour
from pytavern.providers.spec import Capabilities, HttpOptions

KEY_PAGE = "https://z.ai/manage-apikey/apikey-list"


class ZaiOptions(HttpOptions):
    """Z.AI's connection options."""

    thinking: bool | None = Field(
        None, description="Let GLM think before answering (Z.AI's default: on)."
    )


def body_fields(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with samplers on Z.AI's ranges and the thinking switch."""
    result = dict(body)
    for name in ("temperature", "top_p"):
        if result.get(name, 0) > 1:
            result[name] = 1.0
    if options.get("thinking") is not None:
        result["thinking"] = {"type": "enabled" if options["thinking"] else "disabled"}
    return result


def business_code(body: Any) -> str | None:
    """Z.AI's business code of an error body, as ``code NNNN``."""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return f"code {code}" if code else None


FLAVOUR = wire.Flavour(
    "zai",
    wire.OPENAI_SAMPLERS - {"seed"},
    stop_limit=1,
    probe_by_generating=True,
    body=body_fields,
    refine_error=vendor_advice(
        "zai",
        "Z.AI",
        KEY_PAGE,
        "ZAI_API_KEY",
        notes={
            429: "Z.AI's concurrency limit was reached, or the account's balance is used "
            "up (code 1113): wait, or top up on the Z.AI console",
        },
        detail=business_code,
    ),
)

SPEC = openai_flavour(
    "zai",
    "Z.AI (GLM)",
    default_url="https://api.z.ai/api/paas/v4",
    key_env="ZAI_API_KEY",
    flavour=FLAVOUR,
    options=ZaiOptions,
    default_model="glm-4.6",
    capabilities=Capabilities(model_list=False),
)
