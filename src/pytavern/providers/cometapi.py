"""CometAPI: a router with an OpenAI-compatible API (one key for many vendors' models)."""

from __future__ import annotations

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://api.cometapi.com/console/token"

FLAVOUR = wire.Flavour(
    "cometapi",
    wire.OPENAI_SAMPLERS,
    refine_error=vendor_advice(
        "cometapi",
        "CometAPI",
        KEY_PAGE,
        "COMETAPI_KEY",
        notes={
            403: "CometAPI refused the request: the key is wrong or its quota is used up; "
            "check the token and its quota at https://api.cometapi.com/console/token",
            503: "CometAPI is busy, or no channel serves this model for your key: try "
            "again, or pick another model (`pytavern connections models NAME`)",
        },
    ),
)

SPEC = openai_flavour(
    "cometapi",
    "CometAPI",
    default_url="https://api.cometapi.com/v1",
    key_env="COMETAPI_KEY",
    flavour=FLAVOUR,
    default_model="gpt-4o-mini",
)
