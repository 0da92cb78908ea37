"""HuggingFace Text Generation Inference (TGI): inference endpoints and self-hosted TGI.

One model per server, read from ``GET /info`` (``model_id``, ``max_total_tokens``); the
completions body names the model ``"tgi"`` (TGI serves the one it loaded). TGI validates
samplers strictly (HTTP 422, ``{"error", "error_type": "validation"}``): ``top_p`` must be
below 1 (a ``top_p`` of 1, meaning off, is sent as 0.999), the temperature above 0 (0,
greedy, is sent as no sampler: TGI is greedy then), and at most 4 stop strings are taken.
A scaled-to-zero inference endpoint answers 503 while it starts; 429 is TGI's "model is
overloaded". Bearer auth with a HuggingFace token when one is set.
"""

from __future__ import annotations

from typing import Any

from pytavern.errors import BadRequestError, ProviderError, UpstreamServerError
from pytavern.providers._text_flavour import TextFlavourProvider
from pytavern.providers.spec import BackendSpec, Capabilities
from pytavern.types import GenerationRequest, ModelInfo

KEY_PAGE = "https://huggingface.co/settings/tokens"
TGI_MODEL = "tgi"
TOP_P_BELOW_ONE = 0.999
"""What a ``top_p`` of 1 or more is sent as (TGI refuses 1)."""


def parse_info(body: Any) -> list[ModelInfo]:
    """The one model TGI's ``/info`` names, with its context."""
    if not isinstance(body, dict) or not isinstance(body.get("model_id"), str):
        return []
    context = body.get("max_total_tokens")
    return [
        ModelInfo(id=body["model_id"], context_length=context if isinstance(context, int) else None)
    ]


def tgi_samplers(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` as TGI validates them: ``top_p`` below 1; a temperature of 0 (greedy)
    sent as no temperature and no ``top_p`` (TGI refuses 0 and is greedy without them)."""
    out = dict(params)
    temperature = out.get("temperature")
    if isinstance(temperature, int | float) and temperature <= 0:
        out.pop("temperature")
        out.pop("top_p", None)
    top_p = out.get("top_p")
    if isinstance(top_p, int | float) and top_p >= 1:
        out["top_p"] = TOP_P_BELOW_ONE
    return out


class HuggingFaceProvider(TextFlavourProvider):
    """TGI's OpenAI-compatible ``/v1/completions``."""

    api = "huggingface"
    sampler_backend = "huggingface"
    service = "HuggingFace TGI"
    key_page = KEY_PAGE
    model_advice = "The endpoint serves one model; check that the URL is the endpoint's own"
    rate_advice = "TGI says the model is overloaded: wait a moment, or scale the endpoint up"
    stop_limit = 4

    def model_for(self, request: GenerationRequest) -> str | None:
        """Always ``tgi``: the server answers with the model it loaded."""
        return TGI_MODEL

    def prompt_and_params(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        """The samplers TGI takes, ``top_p`` below 1 and at most 4 stops."""
        prompt, params = super().prompt_and_params(request)
        return prompt, tgi_samplers(params)

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """Advice for TGI's validation errors and a starting endpoint."""
        error = super().refine_error(error, status, body)
        kind = body.get("error_type") if isinstance(body, dict) else None
        if isinstance(error, BadRequestError) and kind == "validation":
            error.hint = "TGI refused a sampler value: change the setting its message names"
        elif isinstance(error, UpstreamServerError) and status == 503:
            error.hint = (
                "The endpoint is starting or scaled to zero: wait a minute and try again "
                "(see its status at https://endpoints.huggingface.co)"
            )
        return error

    async def list_models(self) -> list[ModelInfo]:
        """The model ``/info`` names."""
        return parse_info(await self.http.request_json("GET", "/info"))


SPEC = BackendSpec(
    name="huggingface",
    label="HuggingFace (TGI / inference endpoints)",
    group="text",
    family="text",
    provider=HuggingFaceProvider,
    key_env="HF_TOKEN",
    sampler_table="huggingface",
    default_model=TGI_MODEL,
    capabilities=Capabilities(context_limit=True),
)
