"""What the chat-completion providers (OpenAI-style, Claude, Gemini) share.

- ``ChatProvider``: the thin I/O class around an ``HttpBackend`` (check, stream, aclose),
  with key scrubbing so no error text can carry the API key;
- message helpers (merging same-role turns) used by the pure request builders.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import orjson

from pytavern.errors import MissingKeyError, ProviderError, StreamProtocolError
from pytavern.events import StreamEvent, TextDelta, merge_deltas
from pytavern.providers._http_config import retry_from_options, timeouts_from_options
from pytavern.providers._http_errors import safe_origin, scrub, web_page_error
from pytavern.providers._sse import (
    DataBatch,
    ServerSentEvent,
    SSERead,
    iter_sse_reads,
    last_index,
    read_events,
    read_head,
)
from pytavern.providers.base import ConnectionConfig, Family
from pytavern.types import ChatMessage, ConnectionStatus, GenerationRequest, ModelInfo

if TYPE_CHECKING:
    from pytavern.providers._http import UpstreamResponse

JSON_ANSWER = "application/json"
"""The event name ``ChatProvider.sse_events`` gives a plain JSON answer to a stream request."""


def require_key(config: ConnectionConfig, env_var: str) -> str:
    """Return the connection's key, or raise ``MissingKeyError`` saying how to set one."""
    if config.key:
        return config.key
    raise MissingKeyError(
        f"connection {config.name!r} ({config.api}) has no API key",
        hint=f"Set {env_var} in the environment, or store a key with "
        f"`pytavern connections add {config.name} --api {config.api} --key -`",
    )


def merge_same_role(messages: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Merge consecutive ``(role, text)`` pairs with the same role, joined by a blank line."""
    merged: list[tuple[str, str]] = []
    for role, text in messages:
        if merged and merged[-1][0] == role:
            merged[-1] = (role, f"{merged[-1][1]}\n\n{text}")
        else:
            merged.append((role, text))
    return merged


def split_leading_system(
    messages: Iterable[ChatMessage],
) -> tuple[list[str], list[ChatMessage]]:
    """Split off the leading system messages' texts from the rest of the prompt."""
    items = list(messages)
    count = 0
    while count < len(items) and items[count].role == "system":
        count += 1
    return [m.content for m in items[:count]], items[count:]


def named(message: ChatMessage) -> str:
    """The message's text, prefixed with ``Name: `` when it has a name (for APIs without names)."""
    return f"{message.name}: {message.content}" if message.name else message.content


def ensure_api_answer(response: UpstreamResponse, provider: str) -> None:
    """Raise when a 2xx answer is a web page rather than what the API speaks."""
    content_type = response.headers.get("content-type", "")
    if "text/html" in content_type:
        raise web_page_error(provider, response.status_code)


def parse_json_event(data: str, provider: str) -> Any:
    """Parse one stream event's JSON payload, or raise ``StreamProtocolError``."""
    try:
        return orjson.loads(data)
    except ValueError:
        raise StreamProtocolError(
            f"the stream carried a line that is not JSON: {data[:80]!r}",
            provider=provider,
            hint="The server does not speak this API correctly; check the URL and API type",
        ) from None


def token_count(data: Any, key: str, provider: str, *, missing: int | None = None) -> int:
    """The integer ``data[key]`` of a count-tokens answer (``missing`` when it is absent);
    raise ``StreamProtocolError`` when the answer carries no count."""
    value = data.get(key, missing) if isinstance(data, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise StreamProtocolError(
        f"the count-tokens answer has no {key}",
        provider=provider,
        hint="The server does not speak this API correctly; check the URL and API type",
    )


class ChatProvider:
    """Base of the chat providers: owns the HTTP backend, checks, streams and closes."""

    api: str = "chat"
    family: Family = "chat"

    def __init__(
        self, config: ConnectionConfig, *, base_url: str, headers: Mapping[str, str]
    ) -> None:
        self.config = config
        from pytavern.providers._http import HttpBackend  # aiohttp: only when used

        self.http = HttpBackend(
            config.name,
            base_url=base_url,
            headers=headers,
            timeouts=timeouts_from_options(config.options),
            retry=retry_from_options(config.options),
            refine_error=self._refine,
        )

    @property
    def name(self) -> str:
        """The connection's name, used in error messages."""
        return self.config.name

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """Per-API refinement of an HTTP error (overridden by providers)."""
        return error

    def _refine(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        return scrub(self.refine_error(error, status, body), self.config.key)

    async def list_models(self) -> list[ModelInfo]:
        """Return the models the backend offers (overridden by providers)."""
        raise NotImplementedError

    async def count_tokens(self, text: str) -> int | None:
        """``None``: this backend has no tokenize endpoint (overridden by those that do)."""
        return None

    async def check(self) -> ConnectionStatus:
        """List the models for real; turn any failure into a status with a hint."""
        where = safe_origin(self.http.base_url)
        try:
            models = await self.list_models()
        except ProviderError as error:
            scrub(error, self.config.key)
            return ConnectionStatus(
                ok=False, summary=error.message, hint=error.hint, details={"kind": error.kind}
            )
        ids = tuple(m.id for m in models)
        hint = None
        model = self.config.model
        if model and ids and model not in ids:
            hint = f"The model {model!r} is not in the list; pick one with --model"
        return ConnectionStatus(
            ok=True,
            summary=f"{self.name}: connected to {where} ({_count(len(ids), 'model')})",
            hint=hint,
            model=model,
            models=ids,
        )

    def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Generate, yielding events; raise ``ProviderError`` on failure."""
        return self._scrubbed(self._stream(request))

    async def _scrubbed(self, events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
        try:
            async for event in events:
                yield event
        except ProviderError as error:
            raise scrub(error, self.config.key) from error.__cause__
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError

    async def sse_events(
        self,
        path: str,
        body: Mapping[str, Any],
        params: Mapping[str, str] | None = None,
        *,
        is_last: Callable[[ServerSentEvent], bool] | None = None,
    ) -> AsyncGenerator[ServerSentEvent, None]:
        """POST ``body`` and yield the answer's SSE events; the response closes on exit.

        A server that answers a stream request with plain JSON (it ignored ``stream``, or
        sent an error with status 200) gives one event named ``application/json`` that
        carries the whole body. When ``is_last`` says an event ends the stream, the rest of
        the body is read before that event is yielded, so the connection can be reused.
        """
        batches = self.sse_batches(path, body, params, is_last=is_last)
        async with aclosing(batches) as opened:
            async for batch in opened:
                for event in batch:
                    yield event

    async def sse_batches(
        self,
        path: str,
        body: Mapping[str, Any],
        params: Mapping[str, str] | None = None,
        *,
        is_last: Callable[[ServerSentEvent], bool] | None = None,
    ) -> AsyncGenerator[list[ServerSentEvent], None]:
        """``sse_events`` as the lists of events each read of the body completed."""
        reads = self.sse_reads(path, body, params, is_last=is_last)
        async with aclosing(reads) as opened:
            async for read in opened:
                yield read_events(read)

    async def sse_reads(
        self,
        path: str,
        body: Mapping[str, Any],
        params: Mapping[str, str] | None = None,
        *,
        is_last: Callable[[ServerSentEvent], bool] | None = None,
        is_last_data: Callable[[str], bool] | None = None,
        unframed_json: bool = False,
    ) -> AsyncGenerator[SSERead, None]:
        """``sse_batches``, but a read whose events all came in the common framing is given
        as a ``DataBatch`` (their data only). ``is_last_data`` says from an event's data
        alone whether it ends the stream (in place of ``is_last``, which needs the event);
        ``unframed_json`` gives a JSON line sent outside SSE framing as the body's last
        event (``iter_sse_reads``)."""
        async with self.http.open("POST", path, json_body=body, params=params) as response:
            ensure_api_answer(response, self.name)
            if "application/json" in response.headers.get("content-type", ""):
                parts = [chunk async for chunk in self.http.iter_bytes(response)]
                text = b"".join(parts).decode("utf-8", errors="replace")
                yield [ServerSentEvent(data=text, event=JSON_ANSWER)]
                return
            chunks = self.http.iter_bytes(response)
            # Closed here rather than left to the event loop's finalizer hook (a task and a
            # wake-up of the loop per stream) when the last event ends the reading early.
            decoding = iter_sse_reads(chunks, unframed_json=unframed_json)
            async with aclosing(decoding) as decoded:
                async for read in decoded:
                    if is_last is not None:  # it reads the events: built once, here
                        read = read_events(read)
                    ending = last_index(read, is_last, is_last_data)
                    if ending is not None:
                        await _http_drain(chunks)
                        yield read_head(read, ending + 1)
                        return
                    yield read

    def model_for(self, request: GenerationRequest | None = None) -> str:
        """The model to use: the request's, else the connection's; raise when neither is set."""
        model = (request.model if request is not None else None) or self.config.model
        if not model:
            from pytavern.errors import ConfigError

            raise ConfigError(
                f"connection {self.name!r} has no model set",
                hint=f"Pick one from `pytavern connections models {self.name}` and set it "
                f"with `pytavern connections add {self.name} --api {self.config.api} --model M`",
            )
        return model

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()


SSEParser = Callable[[ServerSentEvent], list[StreamEvent] | str]
"""Turns one SSE event into stream events (raising ``ProviderError`` on a bad one); a
``str`` stands for one ``TextDelta`` of that text (none when empty), so that the usual
event, which carries only text, costs no event of its own before deltas are joined."""


PlainTexts = Callable[[list[str], int, list[str]], int]
"""The fast path of an ``SSEParser`` over a ``DataBatch``'s payloads: ``plain(payloads,
start, texts)`` adds to ``texts`` the text of each payload from ``start`` on that the parser
would give as a ``str`` (taking the same notes as it would) and returns the index of the
first payload it does not take so (``len(payloads)`` when it takes them all). It takes only
payloads whose parsing ends nothing (``ended()`` stays false) and raises nothing; the one it
stops at goes to the parser itself."""


async def merged_events(
    batches: AsyncIterator[SSERead],
    parse: SSEParser,
    ended: Callable[[], bool],
    plain: PlainTexts | None = None,
) -> AsyncIterator[StreamEvent]:
    """The events of each read's SSE events, adjacent deltas joined (``merge_deltas``),
    until ``ended()`` says the stream's last event was parsed. An error raised by one SSE
    event is raised after the events before it in the same read have been yielded. Given
    ``plain``, a ``DataBatch``'s payloads go through it, and ``parse`` gets only those it
    does not take: the same events, without one object and several calls per event."""
    async for batch in batches:
        if plain is not None and isinstance(batch, DataBatch):
            events, failure = _parsed_data(batch, parse, ended, plain)
        else:
            events, failure = _parsed_read(read_events(batch), parse, ended)
        for event in events:
            yield event
        if failure is not None:
            raise failure
        if ended():
            return


class _ReadEvents:
    """The events of one read being parsed: texts given as ``str`` held in a run that is
    joined into one ``TextDelta`` when other events come or the read ends."""

    __slots__ = ("events", "texts")

    def __init__(self) -> None:
        self.events: list[StreamEvent] = []
        self.texts: list[str] = []

    def add(self, parsed: list[StreamEvent] | str) -> None:
        """Take what the parser gave for one SSE event."""
        if isinstance(parsed, str):
            if parsed:
                self.texts.append(parsed)
        elif parsed:
            self._close_run()
            self.events.extend(parsed)

    def merged(self) -> list[StreamEvent]:
        """All the read's events, adjacent deltas joined."""
        self._close_run()
        return merge_deltas(self.events)

    def _close_run(self) -> None:
        if self.texts:
            self.events.append(TextDelta("".join(self.texts)))
            self.texts = []


def _parsed_read(
    batch: list[ServerSentEvent], parse: SSEParser, ended: Callable[[], bool]
) -> tuple[list[StreamEvent], ProviderError | None]:
    """The events of one read's SSE events, adjacent deltas joined, and the error that
    stopped the read short (``None`` when none did)."""
    read = _ReadEvents()
    for sse in batch:
        try:
            read.add(parse(sse))
        except ProviderError as error:
            return read.merged(), error
        if ended():
            break
    return read.merged(), None


def _parsed_data(
    batch: DataBatch, parse: SSEParser, ended: Callable[[], bool], plain: PlainTexts
) -> tuple[list[StreamEvent], ProviderError | None]:
    """``_parsed_read`` of a ``DataBatch``: runs of payloads that ``plain`` takes go
    through it, each other payload through ``parse`` as its event."""
    read = _ReadEvents()
    payloads = batch.payloads
    start, count = 0, len(payloads)
    while (start := plain(payloads, start, read.texts)) < count:
        try:
            read.add(parse(batch.event(start)))
        except ProviderError as error:
            return read.merged(), error
        if ended():
            break
        start += 1
    return read.merged(), None


async def _http_drain(chunks: AsyncIterator[bytes]) -> None:
    """Read the rest of a body so its connection can be reused (``_http.drain``, imported
    here on first use so that listing backends does not import the HTTP client)."""
    from pytavern.providers._http import drain

    await drain(chunks)


def _count(n: int, noun: str) -> str:
    """``1 model``, ``3 models``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
