"""Featherless: serverless open models behind OpenAI's completions API.

``https://api.featherless.ai/v1`` with Bearer auth; Featherless asks integrations to name
themselves with ``HTTP-Referer`` and ``X-Title``. Its model list is the whole catalogue
(tens of thousands) with ``model_class``, ``context_length`` and
``available_on_current_plan``: models the key's plan cannot run are left out. Its errors:
401 unknown key, 403 a gated model whose licence was not accepted, 400 a cold model,
429 the plan's concurrency used up, 503 no capacity for the model class right now.
"""

from __future__ import annotations

from typing import Any

from pytavern.errors import AuthError, BadRequestError, ProviderError
from pytavern.providers._text import bearer
from pytavern.providers._text_flavour import TextFlavourProvider
from pytavern.providers.spec import BackendSpec, Capabilities
from pytavern.types import ModelInfo

APP_REFERER = "https://github.com/pytavern/pytavern"
APP_TITLE = "pytavern"
KEY_PAGE = "https://featherless.ai/account/api-keys"
MODELS_PAGE = "https://featherless.ai/models"


def parse_featherless_models(body: Any) -> list[ModelInfo]:
    """The models of Featherless's list that the key's plan may run."""
    items = body.get("data") if isinstance(body, dict) else None
    models = []
    for item in items or []:
        if not isinstance(item, dict) or "id" not in item:
            continue
        if item.get("available_on_current_plan") is False:
            continue
        context = item.get("context_length")
        name = item.get("name")
        models.append(
            ModelInfo(
                id=str(item["id"]),
                name=name if isinstance(name, str) else None,
                context_length=context if isinstance(context, int) else None,
            )
        )
    return models


class FeatherlessProvider(TextFlavourProvider):
    """Featherless's ``/v1/completions``."""

    api = "featherless"
    sampler_backend = "vllm"
    default_url = "https://api.featherless.ai/v1"
    service = "Featherless"
    key_page = KEY_PAGE
    model_advice = f"Pick a model your plan runs at {MODELS_PAGE} (its id, e.g. org/name)"
    rate_advice = (
        "Your Featherless plan's concurrent requests are in use (bigger models cost more of "
        "them): wait for the others to finish, or upgrade the plan"
    )
    needs_model = True

    def headers(self) -> dict[str, str]:
        """Bearer auth and the app's name (``HTTP-Referer``, ``X-Title``)."""
        return {**bearer(self.config.key), "HTTP-Referer": APP_REFERER, "X-Title": APP_TITLE}

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """A 403 is a gated model, a 400 about a cold model says to wait for it."""
        error = super().refine_error(error, status, body)
        if isinstance(error, AuthError) and status == 403:
            error.hint = (
                f"The model is gated: open its page at {MODELS_PAGE}, accept its licence "
                "(Unlock Model), then try again"
            )
        elif isinstance(error, BadRequestError) and "cold" in error.message.lower():
            error.hint = (
                "The model is cold (not loaded): warm it from its page at "
                f"{MODELS_PAGE}, wait a few minutes, or pick a warm model"
            )
        return error

    async def list_models(self) -> list[ModelInfo]:
        """The catalogue's models this key's plan may run."""
        return parse_featherless_models(await self.http.request_json("GET", self.models_path))


SPEC = BackendSpec(
    name="featherless",
    label="Featherless",
    group="text",
    family="text",
    provider=FeatherlessProvider,
    default_url="https://api.featherless.ai/v1",
    needs_url=False,
    key_env="FEATHERLESS_API_KEY",
    key_required=True,
    sampler_table="vllm",
    needs_model=True,
    capabilities=Capabilities(context_limit=True),
)
