"""OpenAI Chat Completions provider, for API types ``openai``, ``openrouter`` and ``custom``.

Base URL rule (all three types): a trailing ``/chat/completions`` (or ``/completions``,
``/models``) is removed; then, if what is left is a bare host (no path at all), ``/v1`` is
added; any other path is kept as the user gave it. So ``http://h:8080``,
``http://h:8080/v1`` and ``http://h:8080/v1/chat/completions`` all mean
``http://h:8080/v1``, while ``https://h/api/openai`` stays as it is.

Options: ``openrouter`` takes ``provider_order`` (list), ``allow_fallbacks`` (bool),
``middle_out`` (bool), ``include_reasoning`` (bool), and ``referer`` / ``title`` (the
``HTTP-Referer`` / ``X-Title`` headers OpenRouter shows the app by; pytavern's own by
default, an empty string sends none); ``custom`` takes ``extra_headers``
(dict), ``extra_body`` (dict merged into the body) and ``exclude_body`` (list of body keys
removed); it sends the extra samplers OpenAI-compatible servers commonly take (top_k, min_p,
top_a, repetition_penalty; drop any a server refuses with ``exclude_body``), and a server
without ``GET /models`` is checked with a 1-token request when a model is set. All take the
``_http`` timeout and retry options.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from pytavern.errors import ConfigError, ProviderError
from pytavern.events import StreamEvent
from pytavern.providers import _openai_wire as wire
from pytavern.providers._chat import JSON_ANSWER, ChatProvider, parse_json_event, require_key
from pytavern.providers._sse import is_done_marker
from pytavern.providers.base import ConnectionConfig, generate
from pytavern.types import (
    ChatMessage,
    ConnectionStatus,
    GenerationRequest,
    ModelInfo,
    SamplerSettings,
)

_FLAVOURS = {"openai": wire.OPENAI, "openrouter": wire.OPENROUTER, "custom": wire.CUSTOM}
_KEY_ENV = {"openai": "OPENAI_API_KEY", "openrouter": "OPENROUTER_API_KEY"}
_DEFAULT_URL = {"openai": "https://api.openai.com/v1", "openrouter": "https://openrouter.ai/api/v1"}
OPENROUTER_REFERER = "https://github.com/pytavern/pytavern"
OPENROUTER_TITLE = "pytavern"


def build_headers(config: ConnectionConfig, flavour: wire.Flavour) -> dict[str, str]:
    """The headers every request carries: bearer key and per-flavour extras."""
    headers: dict[str, str] = {}
    key = config.key if flavour is wire.CUSTOM else require_key(config, _KEY_ENV[flavour.name])
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if flavour is wire.OPENROUTER:
        for header, option, default in (
            ("HTTP-Referer", "referer", OPENROUTER_REFERER),
            ("X-Title", "title", OPENROUTER_TITLE),
        ):
            value = _header_option(config, option, default)
            if value:
                headers[header] = value
    if flavour is wire.CUSTOM:
        extra = config.options.get("extra_headers") or {}
        headers.update({str(k): str(v) for k, v in dict(extra).items()})
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


def base_url_for(config: ConnectionConfig) -> str:
    """The normalised base URL of the connection (see the module docstring)."""
    url = config.url or _DEFAULT_URL.get(config.api)
    if not url:
        raise ConfigError(
            f"connection {config.name!r} ({config.api}) has no URL",
            hint=f"Give the server's URL: `pytavern connections add {config.name} "
            f"--api {config.api} --url http://HOST:PORT/v1`",
        )
    return wire.normalize_openai_url(url)


class OpenAICompatProvider(ChatProvider):
    """OpenAI Chat Completions over HTTP (``openai``, ``openrouter``, ``custom``)."""

    def __init__(self, config: ConnectionConfig) -> None:
        self.flavour = _FLAVOURS.get(config.api, wire.CUSTOM)
        self.api = config.api
        super().__init__(
            config, base_url=base_url_for(config), headers=build_headers(config, self.flavour)
        )

    def supported_samplers(self) -> frozenset[str]:
        """The sampler fields sent for the connection's model."""
        return wire.supported_samplers(self.flavour, self.config.model)

    async def list_models(self) -> list[ModelInfo]:
        """``GET /models``."""
        return wire.parse_models(await self.http.request_json("GET", "models"))

    async def check(self) -> ConnectionStatus:
        """List the models; a custom server without ``/models`` is tried with a 1-token reply."""
        status = await super().check()
        if status.ok or self.flavour is not wire.CUSTOM or not self.config.model:
            return status
        if status.details.get("kind") != "UpstreamNotFoundError":
            return status
        return await self._check_by_generating(status)

    async def _check_by_generating(self, failed: ConnectionStatus) -> ConnectionStatus:
        probe = GenerationRequest(
            messages=(ChatMessage("user", "Hi"),),
            sampling=SamplerSettings(max_tokens=1),
            stream=False,
        )
        try:
            await generate(self, probe)
        except ProviderError:
            return failed
        return ConnectionStatus(
            ok=True,
            summary=f"{self.name}: the server answered a 1-token request "
            "(it has no model list at /models)",
            model=self.config.model,
        )

    async def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        model = self.model_for(request)
        body = wire.build_body(
            request, model, self.flavour, self.config.options, stream=request.stream
        )
        if not request.stream:
            data = await self.http.request_json("POST", "chat/completions", json_body=body)
            for event in wire.parse_reply(self.name, data):
                yield event
            return
        parser = wire.StreamParser(self.name)
        done = False
        events_in = self.sse_events("chat/completions", body, is_last=is_done_marker)
        async with aclosing(events_in) as events:
            async for sse in events:
                if sse.event == JSON_ANSWER:
                    for event in wire.parse_reply(self.name, parse_json_event(sse.data, self.name)):
                        yield event
                    return
                if sse.data.strip() == "[DONE]":
                    done = True
                    break
                if not sse.data.strip():
                    continue
                for event in parser.feed(parse_json_event(sse.data, self.name)):
                    yield event
        for event in parser.end(done=done):
            yield event
