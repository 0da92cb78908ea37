"""Cloudflare Workers AI: the OpenAI-compatible endpoint of one Cloudflare account.

The URL carries the account: ``https://api.cloudflare.com/client/v4/accounts/{id}/ai/v1``,
built from the option ``account_id`` when no URL is given (a URL, e.g. through an AI
Gateway, is taken as given). Models are listed by Cloudflare's own search
(``/ai/models/search?task=Text Generation``), and errors come in Cloudflare's envelope
(``{"success": false, "errors": [{"code", "message"}]}``), read here for their message.
The envelope comes with the error's status, but Workers AI has been seen sending it with
status 200 for a transient lack of capacity (code 3040): then it is read by the status
Cloudflare documents for its code. A stream has no error event: one that fails mid-reply
just ends, without ``[DONE]`` or a ``finish_reason`` (Cloudflare's own AI SDK provider
reports that as a truncated stream).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import Field

from pytavern.errors import (
    BadRequestError,
    ConfigError,
    ProviderError,
    RateLimitError,
    UpstreamServerError,
)
from pytavern.providers import _openai_wire as wire
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.openai_compat import OpenAICompatProvider, openai_flavour
from pytavern.providers.spec import HttpOptions
from pytavern.types import ModelInfo

KEY_PAGE = "https://dash.cloudflare.com/profile/api-tokens"
ACCOUNT_URL = "https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/v1"
TEXT_GENERATION = "Text Generation"
CODE_STATUS = {
    **dict.fromkeys((5007, 5004, 3039, 3003), 400),
    **dict.fromkeys((5018, 5016, 3023, 3041), 403),
    3042: 404,
    **dict.fromkeys((5019, 5005), 405),
    **dict.fromkeys((3007, 3008), 408),
    3006: 413,
    **dict.fromkeys((3036, 3040), 429),
}
"""The HTTP status Cloudflare documents for each Workers AI error code (its errors page)."""
OUT_OF_CAPACITY = 3040
ALLOCATION_HINT = (
    "Workers AI's daily free allocation is used up or the service is busy: wait, or move "
    "the account to the Workers Paid plan"
)
CAPACITY_HINT = (
    "Workers AI has no capacity for this model right now: try again in a moment, or pick "
    "another model (`pytavern connections models NAME`)"
)


class CloudflareOptions(HttpOptions):
    """Cloudflare Workers AI's connection options."""

    account_id: str | None = Field(
        None,
        pattern=r"^[0-9a-fA-F]{32}$",
        description="The Cloudflare account ID (32 hex digits, on the dashboard's "
        "Workers AI page); builds the URL when none is given.",
    )


def with_account_url(config: ConnectionConfig) -> ConnectionConfig:
    """``config`` with its URL: the one given, or the account's; ``ConfigError`` when
    there is neither."""
    if config.url:
        return config
    account = config.options.get("account_id")
    if not account:
        raise ConfigError(
            f"connection {config.name!r} (cloudflare) has no account ID",
            hint="Copy the account ID from the Cloudflare dashboard (Workers AI page) and "
            f"set it: `pytavern connections add {config.name} --api cloudflare "
            "--option account_id=ID`",
        )
    return dataclasses.replace(config, url=ACCOUNT_URL.format(account_id=account))


def envelope_message(body: Any) -> str | None:
    """The first message of Cloudflare's error envelope, with its code."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None
    first = errors[0]
    code = f" (code {first['code']})" if first.get("code") is not None else ""
    return f"{first.get('message') or 'error'}{code}"


def answered_error(provider: str, data: dict[str, Any]) -> ProviderError | None:
    """Cloudflare's error envelope where it came with status 200 (as an answer, or inside
    the stream), as the error its code stands for; ``None`` for any other object."""
    said = envelope_message(data) if data.get("success") is False else None
    if said is None:
        return None
    message = f"Workers AI answered with an error: {said}"
    return code_error(provider, message, data["errors"][0].get("code"))


def code_error(provider: str, message: str, code: Any) -> ProviderError:
    """The error a Workers AI error ``code`` stands for, by the status documented for it
    (an unknown code as a failure on Cloudflare's side)."""
    status = CODE_STATUS.get(code, 500) if isinstance(code, int) else 500
    if status == 429:
        hint = CAPACITY_HINT if code == OUT_OF_CAPACITY else ALLOCATION_HINT
        return RateLimitError(message, provider=provider, hint=hint)
    if status >= 500:
        hint = "Workers AI failed on its side; try again in a moment"
        return UpstreamServerError(message, provider=provider, status_code=status, hint=hint)
    hint = "Check the account ID, the model name and the sampler settings"
    return BadRequestError(message, provider=provider, status_code=status, hint=hint)


def parse_model_search(data: Any) -> list[ModelInfo]:
    """The text-generation models of a ``/ai/models/search`` answer."""
    items = data.get("result") if isinstance(data, dict) else None
    models: list[ModelInfo] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("name"):
            models.append(ModelInfo(id=str(item["name"]), name=item.get("description")))
    return models


class CloudflareProvider(OpenAICompatProvider):
    """Workers AI: OpenAI Chat Completions at the account's URL, Cloudflare's model search."""

    def __init__(self, config: ConnectionConfig) -> None:
        super().__init__(with_account_url(config))

    async def list_models(self) -> list[ModelInfo]:
        """``GET /ai/models/search?task=Text Generation``."""
        url = f"{self.http.base_url.removesuffix('/v1')}/models/search"
        params = {"task": TEXT_GENERATION, "per_page": "100"}
        return parse_model_search(await self.http.request_json("GET", url, params=params))


FLAVOUR = wire.Flavour(
    "cloudflare",
    wire.OPENAI_SAMPLERS,
    refine_error=vendor_advice(
        "cloudflare",
        "Cloudflare",
        f"{KEY_PAGE} (a token with the Workers AI permission)",
        "CLOUDFLARE_API_TOKEN",
        notes={
            404: "Check the account ID (`--option account_id=ID`, from the dashboard's "
            "Workers AI page) and the model name (`pytavern connections models NAME`)",
            429: ALLOCATION_HINT,
        },
        detail=envelope_message,
    ),
    answer_error=answered_error,
)

SPEC = dataclasses.replace(
    openai_flavour(
        "cloudflare",
        "Cloudflare Workers AI",
        default_url=None,
        key_env="CLOUDFLARE_API_TOKEN",
        flavour=FLAVOUR,
        options=CloudflareOptions,
        default_model="@cf/meta/llama-3.1-8b-instruct",
    ),
    provider=CloudflareProvider,
)
