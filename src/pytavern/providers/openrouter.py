"""OpenRouter: an OpenAI-compatible flavour with provider routing and app headers.

Options: ``provider_order`` (list), ``allow_fallbacks`` (bool), ``middle_out`` (bool),
``include_reasoning`` (bool), and ``referer`` / ``title`` (the ``HTTP-Referer`` /
``X-Title`` headers OpenRouter shows the app by; pytavern's own by default, an empty
string sends none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from pytavern.errors import ConfigError
from pytavern.providers import _openai_wire as wire
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.openai_compat import openai_flavour
from pytavern.providers.spec import Capabilities, HttpOptions

OPENROUTER_REFERER = "https://github.com/pytavern/pytavern"
OPENROUTER_TITLE = "pytavern"


class OpenRouterOptions(HttpOptions):
    """OpenRouter's connection options."""

    provider_order: list[str] | None = Field(
        None, description="Providers to try, in order (OpenRouter's `provider.order`)."
    )
    allow_fallbacks: bool | None = Field(
        None, description="Let OpenRouter fall back to providers not listed."
    )
    middle_out: bool | None = Field(
        None, description="Compress prompts too long for the model (`middle-out`)."
    )
    include_reasoning: bool | None = Field(None, description="Ask for the model's reasoning.")
    referer: str | None = Field(
        None, description="HTTP-Referer header (pytavern's by default; empty sends none)."
    )
    title: str | None = Field(
        None, description="X-Title header (pytavern's by default; empty sends none)."
    )


def body_fields(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with OpenRouter's extras: provider routing, middle-out, reasoning."""
    provider: dict[str, Any] = {}
    if options.get("provider_order"):
        provider["order"] = list(options["provider_order"])
    if options.get("allow_fallbacks") is not None:
        provider["allow_fallbacks"] = bool(options["allow_fallbacks"])
    fields: dict[str, Any] = {"provider": provider} if provider else {}
    if options.get("middle_out") is not None:
        fields["transforms"] = ["middle-out"] if options["middle_out"] else []
    if options.get("include_reasoning") is not None:
        fields["include_reasoning"] = bool(options["include_reasoning"])
    return {**body, **fields}


def app_headers(config: ConnectionConfig) -> dict[str, str]:
    """The ``HTTP-Referer`` and ``X-Title`` headers OpenRouter names the app by."""
    headers: dict[str, str] = {}
    for header, option, default in (
        ("HTTP-Referer", "referer", OPENROUTER_REFERER),
        ("X-Title", "title", OPENROUTER_TITLE),
    ):
        value = _header_option(config, option, default)
        if value:
            headers[header] = value
    return headers


def _header_option(config: ConnectionConfig, option: str, default: str) -> str:
    """The header value the option ``option`` gives (``default`` when unset): printable
    ASCII only, as HTTP headers require; ``ConfigError`` otherwise."""
    value = config.options.get(option)
    if value is None:
        return default
    text = str(value).strip()
    if not all(" " <= ch <= "~" for ch in text):
        raise ConfigError(
            f"connection {config.name!r}: option {option!r} must be printable ASCII "
            "(no line breaks or accents: it is sent as an HTTP header)",
            hint=f"Set it again: `pytavern connections add {config.name} --api "
            f"{config.api} --option {option}=VALUE`",
        )
    return text


FLAVOUR = wire.Flavour("openrouter", wire.EXTENDED_SAMPLERS, headers=app_headers, body=body_fields)

SPEC = openai_flavour(
    "openrouter",
    "OpenRouter",
    default_url="https://openrouter.ai/api/v1",
    key_env="OPENROUTER_API_KEY",
    flavour=FLAVOUR,
    options=OpenRouterOptions,
    default_model="openrouter/auto",
    capabilities=Capabilities(context_limit=True),
)
