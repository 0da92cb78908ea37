"""Gemini API provider (API type ``gemini``, Google AI Studio).

The key travels in the ``x-goog-api-key`` header, never in the URL, so it cannot leak
into logs or error messages. Base URL: ``https://generativelanguage.googleapis.com``
(a trailing ``/v1beta`` is accepted). Options: ``safety_threshold`` (default ``OFF``),
``include_thoughts`` (bool: ask thinking models for thought summaries). Tokens are counted
with ``models/{model}:countTokens``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from pydantic import Field

from pytavern.errors import ProviderError
from pytavern.events import StreamEvent
from pytavern.providers import _gemini_wire as wire
from pytavern.providers._chat import (
    ChatProvider,
    merged_events,
    parse_json_event,
    require_key,
    token_count,
)
from pytavern.providers._http_config import normalize_base_url
from pytavern.providers._sse import ServerSentEvent
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.spec import BackendSpec, Capabilities, HttpOptions
from pytavern.types import GenerationRequest, ModelInfo

DEFAULT_URL = "https://generativelanguage.googleapis.com"
KEY_ENV = "GEMINI_API_KEY"


def base_url_for(url: str | None) -> str:
    """``url`` (or the default) without a trailing API version."""
    return normalize_base_url(url or DEFAULT_URL, strip_suffixes=("/v1beta", "/v1"))


class GeminiProvider(ChatProvider):
    """Gemini over ``generateContent`` / ``streamGenerateContent?alt=sse``."""

    api = "gemini"

    def __init__(self, config: ConnectionConfig) -> None:
        headers = {"x-goog-api-key": require_key(config, KEY_ENV)}
        super().__init__(config, base_url=base_url_for(config.url), headers=headers)

    def supported_samplers(self) -> frozenset[str]:
        """Gemini takes temperature, top_p, top_k, max_tokens, stop (5) and seed."""
        return wire.SAMPLERS

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """Recognise a bad key (400 API_KEY_INVALID) and RESOURCE_EXHAUSTED."""
        return wire.refine(error, self.name, body)

    async def list_models(self) -> list[ModelInfo]:
        """``GET /v1beta/models``, filtered to models that can ``generateContent``."""
        data = await self.http.request_json("GET", "v1beta/models", params={"pageSize": "1000"})
        return wire.parse_models(data)

    async def count_tokens(self, text: str) -> int | None:
        """Tokens of ``text`` as one user turn, by ``POST v1beta/models/{model}:countTokens``
        (``totalTokens``; the API leaves a zero count out of its answer)."""
        if not text:
            return 0
        body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
        path = wire.model_path(self.model_for(), "countTokens")
        data = await self.http.request_json("POST", path, json_body=body)
        return token_count(data, "totalTokens", self.name, missing=0)

    async def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        model = self.model_for(request)
        body = wire.build_body(request, self.config.options)
        if not request.stream:
            path = wire.model_path(model, "generateContent")
            data = await self.http.request_json("POST", path, json_body=body)
            for event in wire.parse_reply(self.name, data):
                yield event
            return
        parser = wire.StreamParser(self.name)
        path = wire.model_path(model, "streamGenerateContent")

        def parse(sse: ServerSentEvent) -> list[StreamEvent]:
            if not sse.data.strip():
                return []
            return parser.feed(parse_json_event(sse.data, self.name))

        batches = self.sse_batches(path, body, params={"alt": "sse"})
        async with aclosing(batches) as opened:
            async for event in merged_events(opened, parse, lambda: False):
                yield event
        for event in parser.end():
            yield event


class GeminiOptions(HttpOptions):
    """Gemini's connection options."""

    safety_threshold: str = Field(
        wire.DEFAULT_THRESHOLD, description="Safety filter threshold for every category."
    )
    include_thoughts: bool = Field(False, description="Ask thinking models for their thoughts.")


SPEC = BackendSpec(
    name="gemini",
    label="Google Gemini (AI Studio)",
    group="chat",
    family="chat",
    provider=GeminiProvider,
    options=GeminiOptions,
    default_url=DEFAULT_URL,
    needs_url=False,
    key_env=KEY_ENV,
    key_required=True,
    tokenizer="gemini",
    default_model="gemini-2.5-flash",
    needs_model=True,
    capabilities=Capabilities(context_limit=True, token_counting=True),
)
