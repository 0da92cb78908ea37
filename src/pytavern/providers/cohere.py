"""Cohere (API type ``cohere``): the native Chat API v2.

``POST {base}/v2/chat`` with a bearer key, streamed as SSE (``content-delta`` ...
``message-end``); models from ``GET {base}/v1/models?endpoint=chat``. Base URL
``https://api.cohere.com`` (a trailing ``/v1`` or ``/v2`` is accepted). Cohere names its
samplers ``p`` (0.01 to 0.99), ``k`` (0 to 500) and ``stop_sequences`` (at most 5): values
outside those ranges are brought inside rather than refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from pytavern.errors import ProviderError
from pytavern.events import StreamEvent
from pytavern.providers import _cohere_wire as wire
from pytavern.providers._chat import JSON_ANSWER, ChatProvider, parse_json_event, require_key
from pytavern.providers._http_config import normalize_base_url
from pytavern.providers._sse import ServerSentEvent
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.spec import BackendSpec, Capabilities
from pytavern.types import GenerationRequest, ModelInfo

DEFAULT_URL = "https://api.cohere.com"
KEY_ENV = "CO_API_KEY"


class CohereProvider(ChatProvider):
    """Cohere's Chat API v2."""

    api = "cohere"

    def __init__(self, config: ConnectionConfig) -> None:
        headers = {"Authorization": f"Bearer {require_key(config, KEY_ENV)}"}
        base = normalize_base_url(config.url or DEFAULT_URL, strip_suffixes=("/v1", "/v2"))
        super().__init__(config, base_url=base, headers=headers)

    def supported_samplers(self) -> frozenset[str]:
        """temperature, top_p (``p``), top_k (``k``), max_tokens, stop, seed, penalties."""
        return wire.SAMPLERS

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """Cohere's advice for a refused key, payment, unknown model or rate limit."""
        return wire.refine(error, status)

    async def list_models(self) -> list[ModelInfo]:
        """``GET /v1/models?endpoint=chat``."""
        params = {"endpoint": "chat", "page_size": "1000"}
        return wire.parse_models(await self.http.request_json("GET", "v1/models", params=params))

    async def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        model = self.model_for(request)
        body = wire.build_body(request, model, stream=request.stream)
        if not request.stream:
            data = await self.http.request_json("POST", "v2/chat", json_body=body)
            for event in wire.parse_reply(self.name, model, data):
                yield event
            return
        parser = wire.StreamParser(self.name, model)
        events_in = self.sse_events("v2/chat", body, is_last=_is_message_end)
        async with aclosing(events_in) as events:
            async for sse in events:
                if not sse.data.strip():
                    continue
                data = parse_json_event(sse.data, self.name)
                if sse.event == JSON_ANSWER:
                    for event in wire.parse_reply(self.name, model, data):
                        yield event
                    return
                for event in parser.feed(data):
                    yield event
        for event in parser.end():
            yield event


def _is_message_end(event: ServerSentEvent) -> bool:
    """Whether ``event`` is the stream's last, ``message-end``."""
    return event.event == "message-end" or '"type":"message-end"' in event.data.replace(" ", "")


SPEC = BackendSpec(
    name="cohere",
    label="Cohere",
    group="chat",
    family="chat",
    provider=CohereProvider,
    default_url=DEFAULT_URL,
    needs_url=False,
    key_env=KEY_ENV,
    key_required=True,
    default_model="command-a-03-2025",
    needs_model=True,
    capabilities=Capabilities(context_limit=True),
)
