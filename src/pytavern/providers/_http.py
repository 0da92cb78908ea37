"""Shared HTTP plumbing for every HTTP backend.

- requests go by the lean HTTP/1.1 client (``_http1``: one keep-alive pool per backend,
  made inside the running event loop on first use) when no proxy applies; a proxy or a
  redirect goes by aiohttp (``_http_aiohttp``, imported then); providers see only
  ``UpstreamResponse`` (status and headers);
- timeouts split into connect, first byte and the gap between chunks (no total, so long
  streams are never cut by one);
- retries with backoff on connection failures, 408/429/5xx/529, honouring ``Retry-After`` up
  to a cap, and only before the first byte of a reply;
- transport and status errors mapped once onto the pytavern error tree; the clients' own
  exceptions (whose text can carry the full URL and request headers) are never attached to
  the errors raised;
- proxies from ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY``, read once per
  event loop (aiohttp's own ``trust_env`` would also read ``~/.netrc``, which can replace an
  API key's ``Authorization`` header, and looks both up in a thread on every request);
- responses always closed, also when the consumer stops early.

Nothing here logs request or response bodies or URLs.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator, Hashable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict

from pytavern.errors import (
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamTimeoutError,
)
from pytavern.providers._http1 import (
    REDIRECTS,
    Body,
    Http1Error,
    Http1Pool,
    LeanBody,
    Request,
    Target,
    head_end,
    head_start,
    lean_error,
    target_of,
)
from pytavern.providers._http_config import (
    RETRY_STATUSES,
    ErrorRefiner,
    RetryPolicy,
    Timeouts,
    encode_json,
    env_proxy,
)
from pytavern.providers._http_errors import (
    decode_body,
    error_from_status,
    looks_like_html,
    parse_retry_after,
    web_page_error,
)

if TYPE_CHECKING:
    from pytavern.providers._http_aiohttp import AiohttpSession


@dataclass(frozen=True, slots=True, eq=False)
class UpstreamResponse:
    """A backend's 2xx answer whose body is still to be read (with ``HttpBackend.iter_bytes``).

    ``headers`` is case-insensitive (``headers.get("content-type")``).
    """

    status_code: int
    headers: Mapping[str, str]
    _body: Body = field(repr=False)


class HttpBackend:
    """An HTTP client for one backend, with pytavern's timeouts, retries and error mapping.

    Its connection pool (and aiohttp's session, when a proxy or a redirect needs one) is
    made on first use, in the running event loop (providers may be built outside one);
    ``aclose`` closes them.
    """

    def __init__(
        self,
        provider: str,
        *,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        refine_error: ErrorRefiner | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self._refine_error = refine_error
        self._headers = dict(headers or {})
        self._aiohttp: AiohttpSession | None = None
        self._pool: Http1Pool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[str, str] = {}
        self._targets: dict[Hashable, Target | None] = {}
        self._heads: dict[Hashable, bytes] = {}
        self._closed = False
        self.encoded_urls = False
        """Send URLs exactly as given, already percent-encoded (AWS SigV4 signs the path as
        sent: ``%3A`` must stay ``%3A``); by default aiohttp normalises them."""

    def url(self, path: str) -> str:
        """Join ``path`` to the base URL (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _pool_now(self) -> Http1Pool:
        """The lean client's pool for the running loop, made on first use."""
        if self._closed:
            raise RuntimeError("this HTTP backend is closed")
        loop = asyncio.get_running_loop()
        if self._pool is None or self._pool_loop is not loop:  # one made in another loop is let go
            self._pool, self._pool_loop = Http1Pool(), loop
            self._proxies = urllib.request.getproxies_environment()
        return self._pool

    @asynccontextmanager
    async def open(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[UpstreamResponse]:
        """Send a request and yield the streaming response once its status is 2xx.

        Retries happen here, before any byte of the body has been read. The response is
        closed when the block exits, however it exits; its connection goes back to the pool
        when the body was read to the end.
        """
        url = self.url(path)
        data = None if json_body is None else encode_json(json_body)
        sent = dict(headers or {})
        if data is not None and not any(name.lower() == "content-type" for name in sent):
            sent["Content-Type"] = "application/json"
        attempt = 0
        while True:
            try:
                answer = await self._send_once(Request(method, url, data, params, sent))
            except ProviderError as error:
                if not self._should_retry(error, attempt):
                    raise
                await asyncio.sleep(self.retry.delay(attempt, _retry_after(error)))
                attempt += 1
                continue
            break
        try:
            yield answer
        finally:
            answer._body.release()

    async def _send_once(self, request: Request) -> UpstreamResponse:
        """One request: by the lean client when it takes it, else by aiohttp."""
        pool = self._pool_now()
        if env_proxy(request.url, self._proxies) is None:
            target = self._target(request)
            if target is not None:
                answer = await self._send_lean(pool, target, request)
                if answer is not None:
                    return answer
        return await self._send_aiohttp(request)

    async def _send_lean(
        self, pool: Http1Pool, target: Target, request: Request
    ) -> UpstreamResponse | None:
        """One request by the lean client; ``None`` when the answer is a redirect (for
        aiohttp to follow)."""
        error: ProviderError | None = None
        try:
            head = self._head_start(request, target) + head_end(request.method, request.data)
            async with asyncio.timeout(self.timeouts.first_byte):
                connection = await pool.exchange(
                    target, head + (request.data or b""), self.timeouts.connect
                )
        except Http1Error as exc:
            error = lean_error(self.provider, exc, request.url)
        except TimeoutError:
            error = self._no_slot_in_time(pool) if pool.full else self._no_answer_in_time()
        if error is not None:
            raise error
        if connection.status in REDIRECTS:
            pool.release(target, connection)  # closed: its answer was not read
            return None
        body = LeanBody(pool, target, connection)
        if connection.status >= 400:
            raise await self._status_error(connection.status, connection.headers, body)
        return UpstreamResponse(connection.status, connection.headers, body)

    def _target(self, request: Request) -> Target | None:
        """``target_of`` the request's URL, kept: a connection sends to the same few."""
        params = tuple(request.params.items()) if request.params else None
        key = (request.url, params, self.encoded_urls)
        if key in self._targets:
            return self._targets[key]
        target = target_of(request.url, request.params, encoded=self.encoded_urls)
        _keep(self._targets, key, target)
        return target

    def _head_start(self, request: Request, target: Target) -> bytes:
        """``head_start`` of the request with this backend's headers, kept per request
        line and headers (every turn of a connection sends the same)."""
        key = (request.method, target, tuple(request.headers.items()))
        start = self._heads.get(key)
        if start is None:
            sent = CIMultiDict(self._headers)
            sent.update(request.headers)
            start = head_start(request.method, target, sent)
            _keep(self._heads, key, start)
        return start

    def _no_answer_in_time(self) -> UpstreamTimeoutError:
        return UpstreamTimeoutError(
            f"no answer within {self.timeouts.first_byte:g} s",
            provider=self.provider,
            hint="The backend may be stuck or still loading; try again, "
            "or raise timeout_first_byte for this connection",
        )

    def _no_slot_in_time(self, pool: Http1Pool) -> UpstreamTimeoutError:
        return UpstreamTimeoutError(
            f"no answer within {self.timeouts.first_byte:g} s: {pool.busy_limit} requests to "
            "this backend were already under way",
            provider=self.provider,
            hint="Wait for some generations to finish or stop them, then try again",
        )

    async def _send_aiohttp(self, request: Request) -> UpstreamResponse:
        if self._aiohttp is None:
            from pytavern.providers._http_aiohttp import AiohttpSession  # only when used

            self._aiohttp = AiohttpSession(self.provider, self._headers, self.timeouts.connect)
        try:
            async with asyncio.timeout(self.timeouts.first_byte):
                status, headers, body = await self._aiohttp.send(
                    request,
                    proxy=env_proxy(request.url, self._proxies),
                    encoded=self.encoded_urls,
                )
        except TimeoutError:
            raise self._no_answer_in_time() from None
        if status >= 400:
            raise await self._status_error(status, headers, body)
        return UpstreamResponse(status, headers, body)

    async def _status_error(
        self, status: int, headers: Mapping[str, str], answer: Body
    ) -> ProviderError:
        try:
            async with asyncio.timeout(self.timeouts.gap):
                raw = b"".join([part async for part in _parts(answer)])
            text = raw.decode("utf-8", errors="replace")
        except (Http1Error, TimeoutError):
            text = ""
        finally:
            answer.release()
        body = decode_body(text)
        error = error_from_status(
            self.provider,
            status,
            body,
            content_type=headers.get("content-type", ""),
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
        if self._refine_error is not None:
            error = self._refine_error(error, status, body)
        return error

    def _should_retry(self, error: ProviderError, attempt: int) -> bool:
        if attempt >= self.retry.max_retries or not error.retryable:
            return False
        if error.status_code is not None:
            return error.status_code in RETRY_STATUSES
        return True

    async def iter_bytes(self, response: UpstreamResponse) -> AsyncIterator[bytes]:
        """Yield the body's chunks, failing on a gap longer than ``timeouts.gap``.

        When the connection breaks, what arrived before the break is yielded first.
        """
        body = response._body
        while True:
            error: ProviderError | None = None
            try:
                async with asyncio.timeout(self.timeouts.gap):
                    chunk = await body.readany()
            except TimeoutError:
                chunk = b""
                error = UpstreamTimeoutError(
                    f"the stream stalled for {self.timeouts.gap:g} s",
                    provider=self.provider,
                    hint="The backend stopped sending; what arrived was kept. Try again",
                )
            except Http1Error:
                chunk = body.leftover()
                error = StreamInterruptedError(
                    "the stream was cut before the reply ended",
                    provider=self.provider,
                    hint="What arrived was kept; continue or regenerate the reply",
                )
            if error is not None:
                if chunk:
                    yield chunk
                raise error
            if not chunk:
                return
            yield chunk

    async def read_json(self, response: UpstreamResponse) -> Any:
        """Read the whole body of ``response`` and parse it as JSON."""
        parts = [chunk async for chunk in self.iter_bytes(response)]
        text = b"".join(parts).decode("utf-8", errors="replace")
        if looks_like_html(response.headers.get("content-type", ""), text):
            raise web_page_error(self.provider, response.status_code)
        try:
            return json.loads(text)
        except ValueError:
            raise StreamProtocolError(
                "the answer is not JSON",
                provider=self.provider,
                hint="Check that the URL points at the right kind of API",
            ) from None

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send a request and return its JSON answer (with retries and error mapping)."""
        async with self.open(
            method, path, json_body=json_body, params=params, headers=headers
        ) as response:
            return await self.read_json(response)

    async def aclose(self) -> None:
        """Close the session and its connections; the backend cannot be used afterwards."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None and self._pool_loop is asyncio.get_running_loop():
            pool.close()  # one made in another event loop is let go
        session, self._aiohttp = self._aiohttp, None
        if session is not None:
            await session.aclose()


async def _parts(body: Body) -> AsyncIterator[bytes]:
    while chunk := await body.readany():
        yield chunk


KEPT_HEADS = 64
"""Targets and head starts a backend keeps (a connection uses one or two of each; a key
in the URL's query makes one per key)."""


def _keep(kept: dict[Hashable, Any], key: Hashable, value: Any) -> None:
    """Keep ``value``, forgetting all that was kept once ``KEPT_HEADS`` are."""
    if len(kept) >= KEPT_HEADS:
        kept.clear()
    kept[key] = value


def _retry_after(error: ProviderError) -> float | None:
    return error.retry_after if isinstance(error, RateLimitError) else None


DRAIN_SECONDS = 0.5
"""How long a finished stream's leftover bytes are read so its connection can be reused."""


async def drain(chunks: AsyncIterator[bytes], seconds: float = DRAIN_SECONDS) -> None:
    """Read what is left of a stream whose last event has arrived.

    Closing a response whose body has not ended (often all that is missing is the
    chunked-encoding terminator) closes its connection, and the next request pays for a new
    one. Reading the rest lets the connection go back to the pool; a server that keeps
    sending is cut off after ``seconds``, and a failure here loses nothing.
    """
    try:
        async with asyncio.timeout(seconds):
            async for _chunk in chunks:
                pass
    except (TimeoutError, ProviderError):
        return
