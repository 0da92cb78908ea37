"""Shared HTTP plumbing for every HTTP backend.

- one ``aiohttp.ClientSession`` per provider, made by ``HttpBackend`` inside the running
  event loop on first use; providers see only ``UpstreamResponse`` (status and headers);
- timeouts split into connect, first byte and the gap between chunks (aiohttp's own
  300-second total is off, so long streams are never cut by it);
- retries with backoff on connection failures, 408/429/5xx/529, honouring ``Retry-After`` up
  to a cap, and only before the first byte of a reply;
- transport and status errors mapped once, here, onto the pytavern error tree; aiohttp's
  exceptions (whose text can carry the full URL and request headers) are never attached to
  the errors raised;
- proxies from ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY``, read once per
  session (aiohttp's own ``trust_env`` would also read ``~/.netrc``, which can replace an
  API key's ``Authorization`` header, and looks both up in a thread on every request);
- responses always closed, also when the consumer stops early.

Nothing here logs request or response bodies or URLs, and aiohttp's loggers are kept quiet.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import yarl

from pytavern.errors import (
    ConnectFailedError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamTimeoutError,
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
    safe_origin,
    web_page_error,
)

logging.getLogger("aiohttp").setLevel(logging.WARNING)


def map_transport_error(provider: str, exc: aiohttp.ClientError, url: str) -> ProviderError:
    """Map an aiohttp exception raised before a reply arrived onto the error tree.

    Only the URL's origin is named (never its query string), and nothing of ``exc``'s text,
    which can hold the full URL.
    """
    where = safe_origin(url)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return UpstreamTimeoutError(
            f"timed out connecting to {where}",
            provider=provider,
            hint="Check that the server is running and reachable at that address",
        )
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return UpstreamTimeoutError(
            f"no answer from {where} in time",
            provider=provider,
            hint="The backend may be busy or stuck; try again, or raise the timeout",
        )
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch):
        return _connect_error(provider, exc, where)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        if isinstance(exc, aiohttp.RedirectClientError):
            return ConnectFailedError(
                f"{where} redirected to a URL that is not valid",
                provider=provider,
                hint="Check the URL: give the API's own address rather than one that redirects",
            )
        return ConnectFailedError(
            f"the URL {url!r} is not valid",
            provider=provider,
            hint="Give a full URL starting with http:// or https://",
        )
    return StreamInterruptedError(
        f"the connection to {where} broke ({type(exc).__name__})",
        provider=provider,
        hint="Try again; if it keeps happening, check the server's log",
    )


def _connect_error(
    provider: str,
    exc: aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch,
    where: str,
) -> ConnectFailedError:
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return ConnectFailedError(
            f"could not connect to the proxy for {where}",
            provider=provider,
            hint="Check the proxy in HTTP_PROXY / HTTPS_PROXY, or list the host in NO_PROXY",
        )
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return ConnectFailedError(
            f"the host name in {where} could not be found (DNS)",
            provider=provider,
            hint="Check the spelling of the host in the URL, and your network",
        )
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ServerFingerprintMismatch):
        return ConnectFailedError(
            f"the TLS handshake with {where} failed",
            provider=provider,
            hint="Check whether the server speaks https or http, and its certificate",
        )
    cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else None
    reason = str(cause).lower()  # happy eyeballs joins several attempts into one OSError
    refused = isinstance(cause, ConnectionRefusedError) or "connect call failed" in reason
    return ConnectFailedError(
        f"could not connect to {where}{' (connection refused)' if refused else ''}",
        provider=provider,
        hint="Start the backend server, or fix the host and port in the URL",
    )


@dataclass(frozen=True, slots=True, eq=False)
class UpstreamResponse:
    """A backend's 2xx answer whose body is still to be read (with ``HttpBackend.iter_bytes``).

    ``headers`` is case-insensitive (``headers.get("content-type")``).
    """

    status_code: int
    headers: Mapping[str, str]
    _answer: aiohttp.ClientResponse = field(repr=False)


class HttpBackend:
    """An HTTP client for one backend, with pytavern's timeouts, retries and error mapping.

    Its ``aiohttp.ClientSession`` is made on first use, in the running event loop (providers
    may be built outside one); ``aclose`` closes it.
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
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[str, str] = {}
        self._closed = False
        self.encoded_urls = False
        """Send URLs exactly as given, already percent-encoded (AWS SigV4 signs the path as
        sent: ``%3A`` must stay ``%3A``); by default aiohttp normalises them."""

    def url(self, path: str) -> str:
        """Join ``path`` to the base URL (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _session_now(self) -> aiohttp.ClientSession:
        """The session for the running loop, made on first use."""
        if self._closed:
            raise RuntimeError("this HTTP backend is closed")
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or self._loop is not loop:
            if session is not None:
                session.detach()  # made in an earlier event loop; it cannot be closed here
            connect = self.timeouts.connect
            session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect),
            )
            self._session, self._loop = session, loop
            self._proxies = urllib.request.getproxies_environment()
        return session

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
                answer = await self._send_once(method, url, data, params, sent)
            except ProviderError as error:
                if not self._should_retry(error, attempt):
                    raise
                await asyncio.sleep(self.retry.delay(attempt, _retry_after(error)))
                attempt += 1
                continue
            break
        try:
            yield UpstreamResponse(answer.status, answer.headers, answer)
        finally:
            answer.release()  # closes the connection instead when the body was not all read

    async def _send_once(
        self,
        method: str,
        url: str,
        data: bytes | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str],
    ) -> aiohttp.ClientResponse:
        session = self._session_now()
        proxy = env_proxy(url, self._proxies)
        error: ProviderError | None = None
        try:
            async with asyncio.timeout(self.timeouts.first_byte):
                target = yarl.URL(url, encoded=True) if self.encoded_urls else url
                answer = await session.request(
                    method, target, data=data, params=params, headers=headers, proxy=proxy
                )
        except aiohttp.ClientError as exc:
            error = map_transport_error(self.provider, exc, url)
        except TimeoutError:
            error = UpstreamTimeoutError(
                f"no answer within {self.timeouts.first_byte:g} s",
                provider=self.provider,
                hint="The backend may be stuck or still loading; try again, "
                "or raise timeout_first_byte for this connection",
            )
        if error is not None:
            raise error  # outside the handler: aiohttp's exception (URL, headers) stays out
        if answer.status >= 400:
            raise await self._status_error(answer)
        return answer

    async def _status_error(self, answer: aiohttp.ClientResponse) -> ProviderError:
        try:
            raw = await asyncio.wait_for(answer.read(), self.timeouts.gap)
            text = raw.decode("utf-8", errors="replace")
        except (aiohttp.ClientError, TimeoutError):
            text = ""
        finally:
            answer.release()
        body = decode_body(text)
        error = error_from_status(
            self.provider,
            answer.status,
            body,
            content_type=answer.headers.get("content-type", ""),
            retry_after=parse_retry_after(answer.headers.get("retry-after")),
        )
        if self._refine_error is not None:
            error = self._refine_error(error, answer.status, body)
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
        content = response._answer.content
        while True:
            error: ProviderError | None = None
            try:
                async with asyncio.timeout(self.timeouts.gap):
                    chunk = await content.readany()
            except TimeoutError:
                chunk = b""
                error = UpstreamTimeoutError(
                    f"the stream stalled for {self.timeouts.gap:g} s",
                    provider=self.provider,
                    hint="The backend stopped sending; what arrived was kept. Try again",
                )
            except aiohttp.ClientError:
                chunk = _leftover(content)
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
        session, self._session = self._session, None
        if session is not None and self._loop is asyncio.get_running_loop():
            await session.close()
        elif session is not None:
            session.detach()


def _leftover(content: aiohttp.StreamReader) -> bytes:
    """The bytes ``content`` holds from before its connection broke.

    aiohttp's reader raises the break before handing out what it had buffered; a reader that
    lags the network by a chunk would lose that chunk, so it is taken from the buffer.
    """
    buffer = getattr(content, "_buffer", None)
    if not isinstance(buffer, deque):
        return b""
    data = b"".join(bytes(part) for part in buffer)
    buffer.clear()
    return data


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
