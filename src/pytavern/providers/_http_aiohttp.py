"""aiohttp, for what the lean client (``_http1``) leaves to it: proxies and redirects.

Imported on first use only (importing aiohttp costs more than a tenth of a second).
aiohttp's exceptions, whose text can carry the full URL and request headers, are never
attached to the errors raised; its own ``trust_env`` is off (it would also read
``~/.netrc``, which can replace an API key's ``Authorization`` header).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping

import aiohttp
import yarl

from pytavern.errors import ProviderError
from pytavern.providers._http1 import Http1Error, Request
from pytavern.providers._http_errors import refused_detail, transport_error

logging.getLogger("aiohttp").setLevel(logging.WARNING)


def map_transport_error(provider: str, exc: aiohttp.ClientError, url: str) -> ProviderError:
    """Map an aiohttp exception raised before a reply arrived onto the error tree.

    Only the URL's origin is named (never its query string), and nothing of ``exc``'s text,
    which can hold the full URL.
    """
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return transport_error(provider, "connect-timeout", url)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return transport_error(provider, "no-answer", url)
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch):
        kind, detail = _connect_failure(exc)
        return transport_error(provider, kind, url, detail)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        if isinstance(exc, aiohttp.RedirectClientError):
            return transport_error(provider, "redirect", url)
        return transport_error(provider, "url", url, repr(url))
    return transport_error(provider, "broken", url, f" ({type(exc).__name__})")


def _connect_failure(
    exc: aiohttp.ClientConnectorError | aiohttp.ServerFingerprintMismatch,
) -> tuple[str, str]:
    """The kind of a failure to connect, and the detail its message takes."""
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return "proxy", ""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns", ""
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ServerFingerprintMismatch):
        return "tls", ""
    cause = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else None
    return "connect", refused_detail(cause)


class AiohttpBody:
    """An aiohttp answer's body as a ``Body``."""

    __slots__ = ("_answer",)

    def __init__(self, answer: aiohttp.ClientResponse) -> None:
        self._answer = answer

    async def readany(self) -> bytes:
        """What has arrived of the body; ``Http1Error("broken")`` when the connection broke."""
        try:
            return await self._answer.content.readany()
        except aiohttp.ClientError:
            raise Http1Error("broken") from None

    def leftover(self) -> bytes:
        """What aiohttp held from before a break (``_leftover``)."""
        return _leftover(self._answer.content)

    def release(self) -> None:
        """Back to aiohttp's pool when read to the end; else the connection is closed."""
        self._answer.release()


class AiohttpSession:
    """One ``aiohttp.ClientSession`` for one backend, made in the running event loop on
    first use (and again when the loop changes)."""

    def __init__(self, provider: str, headers: Mapping[str, str], connect: float) -> None:
        self.provider = provider
        self._headers = dict(headers)
        self._connect = connect
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _session_now(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or self._loop is not loop:
            if session is not None:
                session.detach()  # made in an earlier event loop; it cannot be closed here
            connect = self._connect
            session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect),
            )
            self._session, self._loop = session, loop
        return session

    async def send(
        self, request: Request, *, proxy: str | None, encoded: bool
    ) -> tuple[int, Mapping[str, str], AiohttpBody]:
        """Send ``request``; the answer's status, headers and body. A transport failure
        raises ``ProviderError``."""
        session = self._session_now()
        error: ProviderError | None = None
        try:
            target = yarl.URL(request.url, encoded=True) if encoded else request.url
            answer = await session.request(
                request.method,
                target,
                data=request.data,
                params=request.params,
                headers=request.headers,
                proxy=proxy,
            )
        except aiohttp.ClientError as exc:
            error = map_transport_error(self.provider, exc, request.url)
        if error is not None:
            raise error  # outside the handler: aiohttp's exception (URL, headers) stays out
        return answer.status, answer.headers, AiohttpBody(answer)

    async def aclose(self) -> None:
        """Close the session (or let it go, when it was made in another event loop)."""
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
