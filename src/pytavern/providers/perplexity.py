"""Perplexity: an OpenAI-compatible flavour with web search, citations and strict turns.

Quirks (as SillyTavern handles them): no ``stop`` and no ``seed`` are sent; the
``frequency_penalty`` scale starts at 1 (no penalty) where OpenAI's starts at 0, so ours is
shifted by +1; messages must alternate user / assistant after the leading system ones, so
later system messages become user turns, same-role turns are merged and an opening
assistant turn gets a user turn before it. Perplexity serves ``/chat/completions`` at its
root (no ``/v1``), and has no model list: ``test`` sends a 1-token request with the
connection's model.

Citations are kept two ways: ``Finished.extra`` carries ``citations`` (and
``search_results`` when given), and the reply ends with a numbered ``Sources:`` list
matching the ``[1]``-style markers in the text, so the sources are stored with the message
(option ``append_sources``, on by default). The sonar-reasoning models open their text
with a ``<think>`` block: it is shown as reasoning, not as the reply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field

from pytavern.errors import ProviderError
from pytavern.events import Finished, StreamEvent, TextDelta
from pytavern.providers import _openai_wire as wire
from pytavern.providers._chat import merge_same_role
from pytavern.providers._http_errors import scrub
from pytavern.providers._think_tags import split_think_tags
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.base import ConnectionConfig, generate, one_token_probe
from pytavern.providers.openai_compat import OpenAICompatProvider, openai_flavour
from pytavern.providers.spec import Capabilities, HttpOptions
from pytavern.types import ConnectionStatus, GenerationRequest

KEY_PAGE = "https://www.perplexity.ai/account/api/keys"
DEFAULT_URL = "https://api.perplexity.ai"
OPENING_TURN = "Let's get started."
"""The user turn put before a chat that opens with the assistant (Perplexity refuses that)."""


class PerplexityOptions(HttpOptions):
    """Perplexity's connection options."""

    append_sources: bool = Field(
        True, description="End the reply with the numbered list of the sources it cites."
    )


def alternating(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` as Perplexity takes them: leading system text, then strict turns."""
    count = 0
    while count < len(messages) and messages[count]["role"] == "system":
        count += 1
    system = "\n\n".join(str(m["content"]) for m in messages[:count])
    turns = merge_same_role(
        ("user" if m["role"] == "system" else m["role"], _named(m)) for m in messages[count:]
    )
    if turns and turns[0][0] == "assistant":
        turns.insert(0, ("user", OPENING_TURN))
    head = [{"role": "system", "content": system}] if count else []
    return head + [{"role": role, "content": text} for role, text in turns]


def _named(message: Mapping[str, Any]) -> str:
    name = message.get("name")
    return f"{name}: {message['content']}" if name else str(message["content"])


def body_fields(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with strict turns and the frequency penalty on Perplexity's scale."""
    result = {**body, "messages": alternating(body["messages"])}
    if "frequency_penalty" in result:
        result["frequency_penalty"] = result["frequency_penalty"] + 1.0
    return result


def sources_text(citations: Any) -> str:
    """The ``Sources:`` list appended to a reply (empty when there are no citations)."""
    urls = [str(c) for c in citations if c] if isinstance(citations, list) else []
    if not urls:
        return ""
    lines = [f"[{number}] {url}" for number, url in enumerate(urls, start=1)]
    return "\n\nSources:\n" + "\n".join(lines)


def base_url(url: str | None) -> str:
    """The base URL by every flavour's rule, except that a bare host gets no ``/v1``."""
    given = url or DEFAULT_URL
    normalised = wire.normalize_openai_url(given)
    if normalised.endswith("/v1") and "/v1" not in urlsplit(given).path:
        return normalised.removesuffix("/v1")
    return normalised


class PerplexityProvider(OpenAICompatProvider):
    """Perplexity's provider: the OpenAI-compatible one, ending replies with their sources."""

    def __init__(self, config: ConnectionConfig) -> None:
        super().__init__(config)
        self.http.base_url = base_url(config.url)

    async def check(self) -> ConnectionStatus:
        """A 1-token request with the connection's model (Perplexity lists no models)."""
        try:
            await generate(self, one_token_probe())
        except ProviderError as error:
            scrub(error, self.config.key)
            return ConnectionStatus(
                ok=False, summary=error.message, hint=error.hint, details={"kind": error.kind}
            )
        return ConnectionStatus(
            ok=True,
            summary=f"{self.name}: Perplexity answered a 1-token request with "
            f"{self.model_for()} (it has no model list)",
            model=self.config.model,
        )

    async def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        append = bool(self.config.options.get("append_sources", True))
        async for event in split_think_tags(super()._stream(request)):
            if isinstance(event, Finished) and append:
                text = sources_text(event.extra.get("citations"))
                if text:
                    yield TextDelta(text)
            yield event


FLAVOUR = wire.Flavour(
    "perplexity",
    frozenset({"temperature", "top_p", "top_k", "frequency_penalty", "presence_penalty"})
    | {"max_tokens"},
    body=body_fields,
    kept_fields=frozenset({"citations", "search_results"}),
    refine_error=vendor_advice(
        "perplexity",
        "Perplexity",
        KEY_PAGE,
        "PERPLEXITY_API_KEY",
        notes={
            400: "Check the model name (sonar, sonar-pro, sonar-reasoning-pro...) and the "
            "sampler settings: Perplexity has no model list to pick from",
            404: "Leave the URL unset (Perplexity serves https://api.perplexity.ai/chat/"
            "completions, with no /v1)",
        },
    ),
)

SPEC = dataclasses.replace(
    openai_flavour(
        "perplexity",
        "Perplexity",
        default_url=DEFAULT_URL,
        key_env="PERPLEXITY_API_KEY",
        flavour=FLAVOUR,
        options=PerplexityOptions,
        default_model="sonar",
        capabilities=Capabilities(model_list=False),
    ),
    provider=PerplexityProvider,
)
