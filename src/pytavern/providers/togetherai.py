"""TogetherAI: hosted open models behind OpenAI's completions API.

``https://api.together.xyz`` with Bearer auth; completions at ``/v1/completions``. The model
list is ``GET /api/models?info`` (as SillyTavern reads it): a bare array whose entries name
the model in ``name`` and its kind in ``display_type`` (image, embedding and rerank models
are left out). Together answers 403 (not 400) when the prompt plus ``max_tokens`` exceeds
the model's context, and 503 when the engine is overloaded.
"""

from __future__ import annotations

from typing import Any

from pytavern.errors import AuthError, BadRequestError, ProviderError
from pytavern.providers._text_flavour import TextFlavourProvider
from pytavern.providers.spec import BackendSpec, Capabilities
from pytavern.types import ModelInfo

KEY_PAGE = "https://api.together.ai/settings/api-keys"
NOT_TEXT = frozenset({"image", "embedding", "rerank", "moderation", "audio", "transcribe"})
"""Model kinds that do not complete text."""


def parse_together_models(body: Any) -> list[ModelInfo]:
    """The text models of Together's ``/api/models?info`` array (``name`` is the id)."""
    models = []
    for item in body if isinstance(body, list) else []:
        if not isinstance(item, dict):
            continue
        model_id = item.get("name") or item.get("id")
        kind = str(item.get("display_type") or item.get("type") or "").lower()
        if not isinstance(model_id, str) or kind in NOT_TEXT:
            continue
        label = item.get("display_name")
        context = item.get("context_length")
        models.append(
            ModelInfo(
                id=model_id,
                name=label if isinstance(label, str) else None,
                context_length=context if isinstance(context, int) else None,
            )
        )
    return models


class TogetherAIProvider(TextFlavourProvider):
    """TogetherAI's ``/v1/completions``."""

    api = "togetherai"
    sampler_backend = "vllm"
    default_url = "https://api.together.xyz"
    models_path = "/api/models"
    service = "TogetherAI"
    key_page = KEY_PAGE
    model_advice = (
        "Pick a language model from https://api.together.ai/models "
        "(its API name, e.g. org/Model-Name)"
    )
    rate_advice = "TogetherAI's rate limit for this key was reached: wait a moment, or raise it"
    needs_model = True

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """Together's 403 is a prompt too long for the model, not a refused key."""
        if status == 403 and isinstance(error, AuthError):
            error = BadRequestError(
                error.message,
                provider=self.name,
                status_code=status,
                hint="The prompt plus the reply length is over the model's context: lower "
                "the context size or max tokens, or pick a model with a longer context",
            )
        return super().refine_error(error, status, body)

    async def list_models(self) -> list[ModelInfo]:
        """Together's text models (``GET /api/models?info``)."""
        body = await self.http.request_json("GET", self.models_path, params={"info": ""})
        return parse_together_models(body)


SPEC = BackendSpec(
    name="togetherai",
    label="TogetherAI",
    group="text",
    family="text",
    provider=TogetherAIProvider,
    default_url="https://api.together.xyz",
    needs_url=False,
    key_env="TOGETHER_API_KEY",
    key_required=True,
    sampler_table="vllm",
    needs_model=True,
    capabilities=Capabilities(context_limit=True),
)
