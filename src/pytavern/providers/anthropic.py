"""Anthropic Messages API provider (API type ``claude``).

Base URL: ``https://api.anthropic.com/v1`` by default; a proxy URL may be given with or
without ``/v1`` or ending in ``/messages`` (all normalise to ``.../v1``). Option
``thinking_budget`` (int) turns on extended thinking; thinking arrives as ``ReasoningDelta``.
Tokens are counted with ``POST /v1/messages/count_tokens`` (see ``count_tokens``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, Literal

from pydantic import Field

from pytavern.errors import ProviderError, UpstreamServerError
from pytavern.events import StreamEvent, UsageEvent
from pytavern.providers import _anthropic_wire as wire
from pytavern.providers._chat import (
    ChatProvider,
    merged_events,
    parse_json_event,
    require_key,
    token_count,
)
from pytavern.providers._http_config import normalize_base_url
from pytavern.providers._http_errors import scrub
from pytavern.providers._sse import ServerSentEvent
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.spec import BackendSpec, Capabilities, HttpOptions
from pytavern.types import GenerationRequest, ModelInfo, Usage

log = logging.getLogger(__name__)

DEFAULT_URL = "https://api.anthropic.com/v1"
KEY_ENV = "ANTHROPIC_API_KEY"
CACHE_TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
"""How long Claude keeps a prompt cache after its last read, by ``cache_ttl``."""
KEEP_WARM_LEAD = 30.0
"""How long before the cache would expire a keep-warm ping is sent."""


def base_url_for(url: str | None) -> str:
    """``url`` (or the default) normalised to end in ``/v1``."""
    base = normalize_base_url(url or DEFAULT_URL, strip_suffixes=("/messages", "/v1"))
    return f"{base}/v1"


class AnthropicProvider(ChatProvider):
    """Claude over the Messages API."""

    api = "claude"

    def __init__(self, config: ConnectionConfig) -> None:
        headers = {
            "x-api-key": require_key(config, KEY_ENV),
            "anthropic-version": wire.API_VERSION,
        }
        super().__init__(config, base_url=base_url_for(config.url), headers=headers)
        self._overheads: dict[str, int] = {}
        self._overhead_lock = asyncio.Lock()
        self._said_dropped: set[str] = set()

    def supported_samplers(self) -> frozenset[str]:
        """Claude takes temperature, top_p, top_k, max_tokens and stop (not with thinking)."""
        if wire.thinking_budget(self.config.options):
            return wire.THINKING_SAMPLERS
        return wire.SAMPLERS

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """Name Anthropic's overloaded (529) error for what it is."""
        inner = body.get("error") if isinstance(body, dict) else None
        if status == 529 or (isinstance(inner, dict) and inner.get("type") == "overloaded_error"):
            return UpstreamServerError(
                f"Claude is overloaded (HTTP {status})",
                provider=self.name,
                status_code=status,
                hint="Anthropic's servers are busy; try again in a moment",
            )
        return error

    async def list_models(self) -> list[ModelInfo]:
        """``GET /v1/models``."""
        data = await self.http.request_json("GET", "models", params={"limit": "1000"})
        return wire.parse_models(data)

    async def count_tokens(self, text: str) -> int | None:
        """Tokens of ``text``, by ``POST /v1/messages/count_tokens``.

        The endpoint counts a whole Messages body, so ``text`` is sent as the one user
        message of a body and the body's fixed overhead is taken off: that overhead is
        measured once per model by counting a message of one token (``.``). A text of only
        whitespace (the API refuses such a message) is counted after a ``.``, whose token
        is taken off too.
        """
        if not text:
            return 0
        model = self.model_for()
        overhead = await self._overhead(model)
        if text.strip():
            return max(0, await self._count_message(model, text) - overhead)
        return max(0, await self._count_message(model, "." + text) - overhead - 1)

    async def _overhead(self, model: str) -> int:
        async with self._overhead_lock:
            if model not in self._overheads:
                self._overheads[model] = max(0, await self._count_message(model, ".") - 1)
            return self._overheads[model]

    async def _count_message(self, model: str, text: str) -> int:
        body = {"model": model, "messages": [{"role": "user", "content": text}]}
        data = await self.http.request_json("POST", "messages/count_tokens", json_body=body)
        return token_count(data, "input_tokens", self.name)

    def _say_dropped(self, names: list[str], model: str) -> None:
        """Log once per model which set samplers are not sent, and why."""
        if names and model not in self._said_dropped:
            self._said_dropped.add(model)
            log.warning(
                "%s: %s not sent: %s takes temperature or top_p, not both",
                self.name,
                ", ".join(names),
                model,
            )

    async def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        model = self.model_for(request)
        body = wire.build_body(request, model, self.config.options, stream=request.stream)
        self._say_dropped(wire.dropped_samplers(request, model), model)
        if not request.stream:
            data = await self.http.request_json("POST", "messages", json_body=body)
            for event in wire.parse_reply(self.name, data):
                yield event
            return
        parser = wire.StreamParser(self.name)

        def parse(sse: ServerSentEvent) -> list[StreamEvent]:
            if not sse.data.strip():
                return []
            return parser.feed(sse.event, parse_json_event(sse.data, self.name))

        batches = self.sse_batches("messages", body, is_last=_is_message_stop)
        async with aclosing(batches) as opened:
            async for event in merged_events(opened, parse, lambda: parser.done):
                yield event
        for event in parser.end():
            yield event

    def keep_warm_plan(self) -> tuple[int, float] | None:
        """``keep_warm_pings`` pings, each ``KEEP_WARM_LEAD`` seconds before the cache's TTL
        runs out; none without ``prompt_cache``, or with thinking (a one-token request cannot
        carry a thinking budget, and dropping it would not refresh the messages' cache)."""
        options = self.config.options
        pings = int(options.get("keep_warm_pings") or 0)
        if pings <= 0 or not options.get("prompt_cache") or options.get("thinking_budget"):
            return None
        ttl = CACHE_TTL_SECONDS.get(str(options.get("cache_ttl") or "5m"), 300.0)
        return pings, ttl - KEEP_WARM_LEAD

    async def keep_warm(self, request: GenerationRequest) -> Usage:
        """The request again for one token, not streamed (its ``cache_control`` marks as
        they were): Claude reads the cached prefix and keeps it for another TTL."""
        body = wire.build_body(request, self.model_for(request), self.config.options, stream=False)
        body["max_tokens"] = 1
        try:
            data = await self.http.request_json("POST", "messages", json_body=body)
        except ProviderError as error:
            raise scrub(error, self.config.key) from error.__cause__
        usages = [e.usage for e in wire.parse_reply(self.name, data) if isinstance(e, UsageEvent)]
        return usages[-1] if usages else Usage()


def _is_message_stop(event: ServerSentEvent) -> bool:
    return event.event == "message_stop"


class ClaudeOptions(HttpOptions):
    """Claude's connection options."""

    thinking_budget: int | None = Field(
        None, ge=0, description="Extended-thinking budget in tokens (off when unset or 0)."
    )
    prompt_cache: bool = Field(
        False,
        description="Mark the stable prefix (system prompt, card, World Info, older history) "
        "for Claude's prompt cache.",
    )
    cache_depth: int = Field(
        2, ge=0, description="Messages before the last that stay out of the cached history."
    )
    cache_ttl: Literal["5m", "1h"] = Field(
        "5m", description="How long Claude keeps the cache: 5m (default) or 1h (costs more)."
    )
    keep_warm_pings: int = Field(
        0,
        ge=0,
        le=12,
        description="While a chat is idle, send its last request again for one token this "
        "many times, each 30 s before the cache would expire, so the next turn still reads "
        "the cache (each ping is billed as a cache read and is in the usage ledger). Needs "
        "prompt_cache; not with thinking_budget. Off (0) by default.",
    )


SPEC = BackendSpec(
    name="claude",
    label="Anthropic Claude",
    group="chat",
    family="chat",
    provider=AnthropicProvider,
    options=ClaudeOptions,
    default_url=DEFAULT_URL,
    needs_url=False,
    key_env=KEY_ENV,
    key_required=True,
    tokenizer="claude",
    default_model="claude-sonnet-4-5",
    needs_model=True,
    capabilities=Capabilities(prefill=True, token_counting=True),
)
