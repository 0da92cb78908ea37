"""Shared glue for text-completion providers: config, HTTP client, prompt and samplers.

Each backend module subclasses ``TextProvider`` and supplies its pure request builders and
stream parsers; this class only holds what they all do the same way.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from pytavern.errors import (
    ConfigError,
    ProviderError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamServerError,
)
from pytavern.events import Finished, StreamEvent, TextDelta, UsageEvent
from pytavern.providers import registry
from pytavern.providers._chatml import prompt_and_stops
from pytavern.providers._http_config import (
    normalize_base_url,
    retry_from_options,
    timeouts_from_options,
)
from pytavern.providers._http_errors import error_from_status, scrub, web_page_error
from pytavern.providers._samplers import map_samplers, supported_samplers
from pytavern.providers._sse import ServerSentEvent, is_done_marker, iter_lines, iter_sse
from pytavern.providers.base import ConnectionConfig, Family
from pytavern.types import ConnectionStatus, FinishReason, GenerationRequest, ModelInfo, Usage

if TYPE_CHECKING:
    from pytavern.providers._http import UpstreamResponse

FrameParser = Callable[[Any], tuple[str, FinishReason | None, Usage | None]]
"""Reads one stream frame into its text, and its finish reason and usage when it is the last;
raises ``ValueError`` for a frame that is not the backend's."""


class TextProvider:
    """Base of the text-completion providers (one subclass per wire protocol)."""

    api: str = ""
    family: Family = "text"
    sampler_backend: str = ""
    default_url: str | None = None
    strip_suffixes: tuple[str, ...] = ()

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config
        self._apply_spec(config.api)
        url = config.url or self.default_url
        if not url:
            raise ConfigError(
                f"the connection {config.name!r} has no URL",
                hint="Give the server's address with --url, e.g. http://127.0.0.1:5001",
            )
        from pytavern.providers._http import HttpBackend  # aiohttp: only when used

        self.http = HttpBackend(
            config.name,
            base_url=normalize_base_url(url, strip_suffixes=self.strip_suffixes),
            headers=self.headers(),
            timeouts=timeouts_from_options(config.options),
            retry=retry_from_options(config.options),
            refine_error=self._refine,
        )

    def _apply_spec(self, api: str) -> None:
        """Take the API type's declared name, default URL and sampler table (a class shared
        by several API types, like the OpenAI completions flavours, learns them here)."""
        spec = registry().get(api)
        if spec is None:
            return
        self.api = spec.name
        self.default_url = spec.default_url or self.default_url
        self.sampler_backend = spec.sampler_table or self.sampler_backend

    @property
    def name(self) -> str:
        """The connection's name, used in error messages."""
        return self.config.name

    @property
    def options(self) -> Mapping[str, Any]:
        """The connection's API-specific options."""
        return self.config.options

    async def post_json(self, path: str, body: Any) -> Any:
        """POST ``body`` as JSON to ``path`` and give the JSON answer."""
        return await self.http.request_json("POST", path, json_body=body)

    def headers(self) -> dict[str, str]:
        """Headers sent with every request (auth); overridden per backend."""
        return {}

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """Give a status error a backend-specific hint; the default keeps it."""
        return error

    def _refine(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        return scrub(self.refine_error(error, status, body), self.config.key)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every subclass's ``stream`` raises errors with the key scrubbed from their text
        (an upstream may quote the key in an error it sends mid-stream)."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("stream")
        if own is not None and not getattr(own, "_scrubs_key", False):
            cls.stream = _scrubbing(own)  # type: ignore[method-assign,assignment]

    def supported_samplers(self) -> frozenset[str]:
        """Names of the ``SamplerSettings`` fields this backend takes."""
        return supported_samplers(self.sampler_backend)

    def prompt_and_params(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        """Return the prompt text and the mapped sampler parameters for ``request``."""
        prompt, stops = prompt_and_stops(request)
        sampling = request.sampling.model_copy(update={"stop": stops or None})
        return prompt, map_samplers(self.sampler_backend, sampling)

    def model_for(self, request: GenerationRequest) -> str | None:
        """The model named by the request, else the connection's."""
        return request.model or self.config.model

    async def check(self) -> ConnectionStatus:
        """Check the connection for real and diagnose failures in plain words."""
        samplers = sorted(self.supported_samplers())
        try:
            status = await self.probe()
        except ProviderError as error:
            return ConnectionStatus(
                ok=False, summary=error.message, hint=error.hint, details={"samplers": samplers}
            )
        status.details.setdefault("samplers", samplers)
        return status

    async def probe(self) -> ConnectionStatus:
        """Talk to the backend and describe it; raise ``ProviderError`` on failure."""
        models = await self.list_models()
        ids = tuple(model.id for model in models)
        model = self.config.model or (ids[0] if ids else None)
        return ConnectionStatus(
            ok=True, summary=f"connected; model {model or 'unknown'}", model=model, models=ids
        )

    async def list_models(self) -> list[ModelInfo]:
        """Return the models the backend offers."""
        raise NotImplementedError

    async def count_tokens(self, text: str) -> int | None:
        """``None``: this backend has no tokenize endpoint (overridden by those that do)."""
        return None

    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Generate, yielding events; raise ``ProviderError`` on failure."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()

    async def sse_json(
        self, response: UpstreamResponse
    ) -> AsyncIterator[tuple[ServerSentEvent, Any]]:
        """Yield each SSE event with its ``data`` parsed as JSON (``[DONE]`` gives ``None``)."""
        self.refuse_web_page(response)
        chunks = self.http.iter_bytes(response)
        async for event in iter_sse(chunks):
            if is_done_marker(event):
                await _http_drain(chunks)  # lets the connection be reused
                yield event, None
                return
            if not event.data.strip():
                continue
            yield event, self.parse_json_line(event.data)

    async def ndjson(self, response: UpstreamResponse) -> AsyncIterator[Any]:
        """Yield each line of an NDJSON body parsed as JSON."""
        self.refuse_web_page(response)
        async for line in iter_lines(self.http.iter_bytes(response)):
            yield self.parse_json_line(line)

    def refuse_web_page(self, response: UpstreamResponse) -> None:
        """Raise when a streamed answer is a web page (the URL points at a web UI)."""
        if "text/html" in response.headers.get("content-type", ""):
            raise web_page_error(self.name, response.status_code)

    def parse_json_line(self, text: str) -> Any:
        """Parse one streamed JSON payload, or raise ``StreamProtocolError``."""
        try:
            return json.loads(text)
        except ValueError:
            raise StreamProtocolError(
                f"the stream carried a line that is not JSON: {text[:60]!r}",
                provider=self.name,
                hint="What arrived was kept. The backend or a proxy in between garbled the "
                "stream; try again, and check the backend's log",
            ) from None

    def frame_events(
        self, data: Any, parse: FrameParser, wire: str, model: str | None
    ) -> list[StreamEvent]:
        """The events of one frame read by ``parse``: its text, then usage and the finish
        (for ``model``) on the last; a frame that is not ``wire``'s is a protocol error."""
        try:
            text, reason, usage = parse(data)
        except ValueError as exc:
            raise StreamProtocolError(
                f"the stream is not {wire}'s ({exc})",
                provider=self.name,
                hint="What arrived was kept; check the URL and the API type",
            ) from None
        events: list[StreamEvent] = [TextDelta(text)] if text else []
        if usage is not None:
            events.append(UsageEvent(usage))
        if reason is not None:
            events.append(Finished(reason, model=model))
        return events

    async def until_finished(
        self, frames: AsyncIterable[Any], events_of: Callable[[Any], list[StreamEvent]]
    ) -> AsyncIterator[StreamEvent]:
        """Yield each frame's events until one finishes the reply; a stream that ends
        before that was interrupted."""
        async for data in frames:
            events = events_of(data)
            for event in events:
                yield event
            if events and isinstance(events[-1], Finished):
                return
        raise self.interrupted()

    def interrupted(self) -> StreamInterruptedError:
        """The error for a stream that ended without the backend's end marker."""
        return StreamInterruptedError(
            "the stream ended before the backend said it was done",
            provider=self.name,
            hint="What arrived was kept; continue or regenerate the reply",
        )

    def stream_error(self, body: Any, code: int | None = None) -> ProviderError:
        """Map an error reported inside a stream onto the error tree."""
        if code is not None and code >= 400:
            return error_from_status(self.name, code, body, retry_after=None)
        detail = body if isinstance(body, str) else json.dumps(body)[:300]
        return UpstreamServerError(
            f"the backend reported an error mid-stream: {detail}",
            provider=self.name,
            hint="What arrived was kept; try again, and check the backend's log if it repeats",
        )


def bearer(key: str | None) -> dict[str, str]:
    """``Authorization: Bearer`` for ``key``, or nothing when there is no key."""
    return {"Authorization": f"Bearer {key}"} if key else {}


async def _http_drain(chunks: AsyncIterator[bytes]) -> None:
    """Read the rest of a body so its connection can be reused (``_http.drain``, imported
    here on first use so that listing backends does not import the HTTP client)."""
    from pytavern.providers._http import drain

    await drain(chunks)


StreamMethod = Callable[[Any, GenerationRequest], AsyncIterator[StreamEvent]]


def _scrubbing(stream: StreamMethod) -> StreamMethod:
    """``stream`` with the connection's key removed from any ``ProviderError`` it raises."""

    async def scrubbed(self: Any, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        events = stream(self, request)
        try:
            async for event in events:
                yield event
        except ProviderError as error:
            raise scrub(error, self.config.key) from error.__cause__
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    scrubbed.__doc__ = stream.__doc__
    scrubbed.__name__ = stream.__name__
    scrubbed._scrubs_key = True  # type: ignore[attr-defined]
    return scrubbed
