"""Shared HTTP plumbing for every HTTP backend.

- one ``httpx.AsyncClient`` per provider, made by ``HttpBackend``;
- timeouts split into connect, first byte and the gap between chunks;
- retries with backoff on connection failures, 408/429/5xx/529, honouring ``Retry-After`` up
  to a cap, and only before the first byte of a reply;
- transport and status errors mapped once, here, onto the pytavern error tree;
- responses always closed, also when the consumer stops early.

Nothing here logs request or response bodies, and httpx's own request log (which would
show URLs) is kept quiet.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from pytavern.errors import (
    AuthError,
    BadRequestError,
    ConnectFailedError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamNotFoundError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from pytavern.providers.base import ON_REQUEST_SENT

logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 520, 522, 524, 529})
ErrorRefiner = Callable[[ProviderError, int, Any], ProviderError]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long to wait, in seconds, for each phase of a request."""

    connect: float = 10.0
    first_byte: float = 300.0
    gap: float = 120.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry before the first byte of a reply."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Return the wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = self.base_delay * (2**attempt)
        return float(min(backoff * (0.75 + random.random() / 2), self.max_delay))


def timeouts_from_options(options: Mapping[str, Any]) -> Timeouts:
    """Read ``timeout_connect``, ``timeout_first_byte`` and ``timeout_gap`` from options."""
    default = Timeouts()
    return Timeouts(
        connect=float(options.get("timeout_connect", default.connect)),
        first_byte=float(options.get("timeout_first_byte", default.first_byte)),
        gap=float(options.get("timeout_gap", default.gap)),
    )


def retry_from_options(options: Mapping[str, Any]) -> RetryPolicy:
    """Read ``max_retries`` and ``retry_max_delay`` from options."""
    default = RetryPolicy()
    return RetryPolicy(
        max_retries=int(options.get("max_retries", default.max_retries)),
        base_delay=float(options.get("retry_base_delay", default.base_delay)),
        max_delay=float(options.get("retry_max_delay", default.max_delay)),
    )


def parse_retry_after(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header given in seconds; dates are ignored."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def extract_error_message(body: Any) -> str | None:
    """Find the human message in a backend's error body, whatever its shape."""
    if isinstance(body, dict):
        for key in ("error", "message", "detail", "msg"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict):
                inner = extract_error_message(value)
                if inner:
                    return inner
            if isinstance(value, list) and value:
                inner = extract_error_message(value[0])
                if inner:
                    return inner
    if isinstance(body, list) and body:
        return extract_error_message(body[0])
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return None


def looks_like_html(content_type: str, text: str) -> bool:
    """True when a body is a web page rather than an API answer."""
    head = text.lstrip()[:200].lower()
    return "text/html" in content_type or head.startswith(("<!doctype html", "<html"))


def decode_body(text: str) -> Any:
    """Parse ``text`` as JSON, or return it unchanged when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def error_from_status(
    provider: str, status: int, body: Any, *, content_type: str = "", retry_after: float | None
) -> ProviderError:
    """Map an HTTP error status and body onto the error tree, with advice."""
    text = body if isinstance(body, str) else ""
    if isinstance(body, str) and looks_like_html(content_type, text) and status in (200, 404, 405):
        return web_page_error(provider, status)
    detail = extract_error_message(body)
    said = f": {detail}" if detail else ""
    if status in (401, 403):
        return AuthError(
            f"the key was refused (HTTP {status}){said}",
            provider=provider,
            status_code=status,
            hint="Check the API key: store a valid one with "
            "`pytavern connections add NAME --api TYPE --key -`, or set it in the environment",
        )
    if status == 404:
        return UpstreamNotFoundError(
            f"not found (HTTP 404){said}",
            provider=provider,
            status_code=status,
            hint="Check the URL (give the server's base URL, e.g. http://127.0.0.1:5000) "
            "and the model name (`pytavern connections models NAME` lists them)",
        )
    if status == 429:
        return RateLimitError(
            f"rate limited (HTTP 429){said}",
            provider=provider,
            retry_after=retry_after,
            hint="Wait a moment and try again, or check the plan and quota of this key",
        )
    if status >= 500:
        return UpstreamServerError(
            f"the server failed (HTTP {status}){said}",
            provider=provider,
            status_code=status,
            hint="The backend is down or overloaded; try again in a moment",
        )
    return BadRequestError(
        f"the request was refused (HTTP {status}){said}",
        provider=provider,
        status_code=status,
        hint="Check the model name and the sampler settings this backend accepts",
    )


def web_page_error(provider: str, status: int | None = None) -> StreamProtocolError:
    """The error for a URL that serves a web page instead of the API."""
    return StreamProtocolError(
        "the URL points at a web page, not at the API",
        provider=provider,
        status_code=status,
        hint="Use the API's base URL (for most servers http://HOST:PORT or "
        "http://HOST:PORT/v1), not the address of its web interface",
    )


def map_transport_error(provider: str, exc: httpx.HTTPError, url: str) -> ProviderError:
    """Map an httpx transport exception onto the error tree."""
    where = _safe_origin(url)
    if isinstance(exc, httpx.ConnectTimeout):
        return UpstreamTimeoutError(
            f"timed out connecting to {where}",
            provider=provider,
            hint="Check that the server is running and reachable at that address",
        )
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeoutError(
            f"no answer from {where} in time",
            provider=provider,
            hint="The backend may be busy or stuck; try again, or raise the timeout",
        )
    if isinstance(exc, httpx.ConnectError):
        return _connect_error(provider, exc, where)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
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


def _connect_error(provider: str, exc: httpx.ConnectError, where: str) -> ConnectFailedError:
    text = str(exc).lower()
    if (
        "name or service not known" in text
        or "nodename nor servname" in text
        or ("temporary failure in name resolution" in text or "getaddrinfo" in text)
    ):
        return ConnectFailedError(
            f"the host name in {where} could not be found (DNS)",
            provider=provider,
            hint="Check the spelling of the host in the URL, and your network",
        )
    if "ssl" in text or "certificate" in text:
        return ConnectFailedError(
            f"the TLS handshake with {where} failed",
            provider=provider,
            hint="Check whether the server speaks https or http, and its certificate",
        )
    return ConnectFailedError(
        f"could not connect to {where} (connection refused)",
        provider=provider,
        hint="Start the backend server, or fix the host and port in the URL",
    )


def _safe_origin(url: str) -> str:
    """The scheme, host and port of ``url``: never its query string (keys live there)."""
    try:
        parsed = httpx.URL(url)
    except Exception:
        return "the server"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def normalize_base_url(url: str, *, strip_suffixes: tuple[str, ...] = ()) -> str:
    """Trim spaces and trailing slashes and any of ``strip_suffixes`` from ``url``.

    ``localhost`` is rewritten to 127.0.0.1 (as SillyTavern does), which avoids slow IPv6
    fallbacks on some systems.
    """
    base = url.strip().rstrip("/")
    changed = True
    while changed:
        changed = False
        for suffix in strip_suffixes:
            if base.endswith(suffix):
                base = base[: -len(suffix)].rstrip("/")
                changed = True
    return base.replace("://localhost", "://127.0.0.1")


async def _note_request_sent(event_name: str, _info: dict[str, Any]) -> None:
    """httpcore's ``trace`` hook: call ``ON_REQUEST_SENT`` once the request body is out."""
    if event_name.endswith("send_request_body.complete"):
        callback = ON_REQUEST_SENT.get()
        if callback is not None:
            callback()


_TRACE = {"trace": _note_request_sent}


class HttpBackend:
    """An ``httpx.AsyncClient`` with pytavern's timeouts, retries and error mapping."""

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
        self.client = httpx.AsyncClient(
            headers=dict(headers or {}),
            timeout=httpx.Timeout(
                connect=self.timeouts.connect,
                read=None,
                write=self.timeouts.connect,
                pool=self.timeouts.connect,
            ),
            follow_redirects=True,
        )

    def url(self, path: str) -> str:
        """Join ``path`` to the base URL (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    @asynccontextmanager
    async def open(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Send a request and yield the streaming response once its status is 2xx.

        Retries happen here, before any byte of the body has been read. The response is
        closed when the block exits, however it exits.
        """
        url = self.url(path)
        attempt = 0
        while True:
            try:
                response = await self._send_once(method, url, json_body, params, headers)
            except ProviderError as error:
                if not self._should_retry(error, attempt):
                    raise
                await asyncio.sleep(self.retry.delay(attempt, _retry_after(error)))
                attempt += 1
                continue
            break
        try:
            yield response
        finally:
            await response.aclose()

    async def _send_once(
        self,
        method: str,
        url: str,
        json_body: Any,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        request = self.client.build_request(
            method,
            url,
            json=json_body,
            params=params,
            headers=headers,
            extensions=_TRACE if ON_REQUEST_SENT.get() is not None else None,
        )
        try:
            async with asyncio.timeout(self.timeouts.first_byte):
                response = await self.client.send(request, stream=True)
        except TimeoutError:
            raise UpstreamTimeoutError(
                f"no answer within {self.timeouts.first_byte:g} s",
                provider=self.provider,
                hint="The backend may be stuck or still loading; try again, "
                "or raise timeout_first_byte for this connection",
            ) from None
        except httpx.HTTPError as exc:
            raise map_transport_error(self.provider, exc, url) from exc
        if response.status_code >= 400:
            raise await self._status_error(response)
        return response

    async def _status_error(self, response: httpx.Response) -> ProviderError:
        try:
            raw = await asyncio.wait_for(response.aread(), self.timeouts.gap)
            text = raw.decode("utf-8", errors="replace")
        except (httpx.HTTPError, TimeoutError):
            text = ""
        finally:
            await response.aclose()
        body = decode_body(text)
        error = error_from_status(
            self.provider,
            response.status_code,
            body,
            content_type=response.headers.get("content-type", ""),
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
        if self._refine_error is not None:
            error = self._refine_error(error, response.status_code, body)
        return error

    def _should_retry(self, error: ProviderError, attempt: int) -> bool:
        if attempt >= self.retry.max_retries or not error.retryable:
            return False
        if error.status_code is not None:
            return error.status_code in RETRY_STATUSES
        return True

    async def iter_bytes(self, response: httpx.Response) -> AsyncIterator[bytes]:
        """Yield the body's chunks, failing on a gap longer than ``timeouts.gap``."""
        chunks = response.aiter_raw().__aiter__()
        while True:
            try:
                async with asyncio.timeout(self.timeouts.gap):
                    chunk = await chunks.__anext__()
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise UpstreamTimeoutError(
                    f"the stream stalled for {self.timeouts.gap:g} s",
                    provider=self.provider,
                    hint="The backend stopped sending; what arrived was kept. Try again",
                ) from None
            except httpx.HTTPError as exc:
                raise StreamInterruptedError(
                    "the stream was cut before the reply ended",
                    provider=self.provider,
                    hint="What arrived was kept; continue or regenerate the reply",
                ) from exc
            yield chunk

    async def read_json(self, response: httpx.Response) -> Any:
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
        """Close the underlying client and its connections."""
        await self.client.aclose()


def _retry_after(error: ProviderError) -> float | None:
    return error.retry_after if isinstance(error, RateLimitError) else None


DRAIN_SECONDS = 0.5
"""How long a finished stream's leftover bytes are read so its connection can be reused."""


async def drain(chunks: AsyncIterator[bytes], seconds: float = DRAIN_SECONDS) -> None:
    """Read what is left of a stream whose last event has arrived.

    Closing a response with unread bytes (often just the chunked-encoding terminator) makes
    httpx drop the connection, and the next request pays for a new one. Reading the rest
    lets the connection go back to the pool; a server that keeps sending is cut off after
    ``seconds``, and a failure here loses nothing.
    """
    try:
        async with asyncio.timeout(seconds):
            async for _chunk in chunks:
                pass
    except (TimeoutError, ProviderError, httpx.HTTPError):
        return
