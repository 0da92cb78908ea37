"""Pollinations: a free OpenAI-compatible API that needs no key.

The chat endpoint is ``https://text.pollinations.ai/openai/chat/completions``; the model
list is Pollinations' own (``https://text.pollinations.ai/models``, objects with a
``name``). Without a key the anonymous tier allows one request every few seconds (429
beyond); a token from auth.pollinations.ai, stored as the key, raises that limit.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import OpenAICompatProvider, openai_flavour
from pytavern.types import ModelInfo

TOKEN_PAGE = "https://auth.pollinations.ai"


def parse_models(data: Any) -> list[ModelInfo]:
    """Pollinations' model list: ``[{"name", "description", ...}]``."""
    models: list[ModelInfo] = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, dict) and item.get("name"):
            models.append(ModelInfo(id=str(item["name"]), name=item.get("description")))
    return models


class PollinationsProvider(OpenAICompatProvider):
    """Pollinations: OpenAI Chat Completions under ``/openai``, its own model list."""

    async def list_models(self) -> list[ModelInfo]:
        """``GET /models`` beside the ``/openai`` base."""
        url = f"{self.http.base_url.removesuffix('/openai')}/models"
        return parse_models(await self.http.request_json("GET", url))


FLAVOUR = wire.Flavour(
    "pollinations",
    wire.OPENAI_SAMPLERS,
    refine_error=vendor_advice(
        "pollinations",
        "Pollinations",
        TOKEN_PAGE,
        None,
        notes={
            429: "Pollinations' anonymous tier allows one request every few seconds: wait, "
            f"or get a token at {TOKEN_PAGE} and store it with "
            "`pytavern connections add NAME --api pollinations --key -`",
        },
    ),
)

SPEC = dataclasses.replace(
    openai_flavour(
        "pollinations",
        "Pollinations",
        default_url="https://text.pollinations.ai/openai",
        key_env=None,
        flavour=FLAVOUR,
        key_required=False,
        default_model="openai",
    ),
    provider=PollinationsProvider,
)
