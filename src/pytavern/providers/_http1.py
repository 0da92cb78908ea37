"""A lean HTTP/1.1 client for direct requests (no proxy): one keep-alive pool per backend.

aiohttp spends about seven Python calls on every piece of a streamed body that arrives
(its protocol, payload parser, stream reader and flow control), and a token streamed by a
local server arrives as its own piece. Here ``httptools`` (llhttp, in C) parses the answer
and a piece costs two calls: ``data_received`` and ``on_body``. The reader takes whatever
has arrived in one ``readany``.

``HttpBackend`` sends through this client when no proxy applies and the URL is http or
https; a redirect, a proxy and anything else go through aiohttp as before. Errors raised
here are ``Http1Error`` values that ``HttpBackend`` maps onto the pytavern error tree.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

import aiohappyeyeballs
import httptools
import yarl
from multidict import CIMultiDict, CIMultiDictProxy

from pytavern.errors import ProviderError
from pytavern.providers._http_errors import refused_detail, transport_error

HAPPY_EYEBALLS_DELAY = 0.25
"""Seconds before the next of a host's addresses is tried while one is still connecting."""

MAX_IDLE = 32
"""Idle connections kept per host; more are closed."""

MAX_BUSY = 100
"""Requests in flight at once per pool (aiohttp's default limit): more wait for one to end,
so a burst of streams cannot run the process out of file descriptors."""

HIGH_WATER = 4 * 1024 * 1024
"""Bytes held for a consumer that lags before the socket stops being read."""

REDIRECTS = frozenset({301, 302, 303, 307, 308})

USER_AGENT = "pytavern"


class Http1Error(Exception):
    """A failure of the lean client, by kind (a key of ``_http_errors.transport_error``:
    ``connect``, ``connect-timeout``, ``dns``, ``tls``, ``broken``, ``header``); ``detail``
    completes the message where it takes one."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Request:
    """A request to send: its body is already encoded, ``headers`` are its own (the
    backend's are added to them)."""

    method: str
    url: str
    data: bytes | None
    params: Mapping[str, str] | None
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Target:
    """Where a request goes: the pool's key and the request line's target."""

    secure: bool
    host: str
    port: int
    host_header: str
    path: str


def target_of(url: str, params: Mapping[str, str] | None, *, encoded: bool) -> Target | None:
    """The target of ``url`` (with ``params`` added to its query), or ``None`` when the
    lean client does not take it (a scheme other than http or https, no host)."""
    parsed = yarl.URL(url, encoded=encoded)
    host = parsed.raw_host
    if parsed.scheme not in ("http", "https") or not host:
        return None
    if params:
        parsed = parsed.extend_query(params)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    if not parsed.is_default_port():
        shown = f"{shown}:{port}"
    return Target(parsed.scheme == "https", host, port, shown, parsed.raw_path_qs or "/")


def request_head(
    method: str, target: Target, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    """The request line and headers; raise ``Http1Error("header")`` on a line break."""
    return head_start(method, target, headers) + head_end(method, body)


def head_start(method: str, target: Target, headers: Mapping[str, str]) -> bytes:
    """The request line and headers but the body's length (the same for every request of
    one kind to one target); raise ``Http1Error("header")`` on a line break."""
    lines = [f"{method} {target.path} HTTP/1.1", f"Host: {target.host_header}"]
    names = {name.lower() for name in headers}
    for name, value in headers.items():
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
            raise Http1Error("header", repr(name))
        lines.append(f"{name}: {value}")
    if "user-agent" not in names:
        lines.append(f"User-Agent: {USER_AGENT}")
    if "accept" not in names:
        lines.append("Accept: */*")
    if "accept-encoding" not in names:
        lines.append("Accept-Encoding: gzip, deflate")
    return ("\r\n".join(lines) + "\r\n").encode()


def head_end(method: str, body: bytes | None) -> bytes:
    """The head's last line (the body's length, where the request has or needs one) and
    the blank line that ends it."""
    if body is not None or method in ("POST", "PUT", "PATCH"):
        return b"Content-Length: %d\r\n\r\n" % len(body or b"")
    return b"\r\n"


class Http1Connection(asyncio.Protocol):
    """One keep-alive connection and the answer it is reading (one exchange at a time)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self._parser = httptools.HttpResponseParser(self)
        self._head: asyncio.Future[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._chunks: list[bytes] = []
        self._held = 0
        self._paused = False
        self._header_list: list[tuple[str, str]] = []
        self._decoder: zlib._Decompress | None = None
        self._sized = False
        self._informational = False
        self._keep_alive = False
        self.done = False
        self.failed = False
        self.status = 0
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())

    # ---- one exchange ----

    def begin(self, data: bytes) -> asyncio.Future[None]:
        """Send one request; the future resolves when the answer's head has arrived."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._head = loop.create_future()
        self._chunks, self._held, self._header_list = [], 0, []
        self._decoder, self._sized, self.status = None, False, 0
        self.done = self.failed = self._keep_alive = False
        self.transport.write(data)
        return self._head

    @property
    def answered(self) -> bool:
        """Whether any byte of the answer has arrived."""
        return self.status != 0 or bool(self._header_list)

    @property
    def reusable(self) -> bool:
        """Whether the answer was read to its end on a connection the server keeps open."""
        return self.done and self._keep_alive and not self.failed and not self.lost

    async def readany(self) -> bytes:
        """What has arrived of the body (waiting for some); ``b""`` at its end. Raise
        ``Http1Error("broken")`` when the connection broke, after what came before it."""
        while not self._chunks:
            if self.failed:
                raise Http1Error("broken")
            if self.done:
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._chunks, self._held = [], 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    def leftover(self) -> bytes:
        """What arrived and was not read (handed out by ``readany`` first anyway)."""
        data = b"".join(self._chunks)
        self._chunks, self._held = [], 0
        return data

    def close(self) -> None:
        """Close the connection."""
        if self.transport is not None:
            self.transport.close()

    # ---- asyncio.Protocol ----

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not registered

    def data_received(self, data: bytes) -> None:
        """Feed the parser; wake the reader."""
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._break()
            self.close()
        if self._chunks or self.done or self.failed:
            self._wake()

    def eof_received(self) -> bool | None:
        """The server closed its side: the connection closes."""
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """A body read to the close ends there; any other one broke."""
        self.lost = True
        head = self._head
        if head is not None and not self.done:
            if head.done() and self.status and not self._sized and exc is None:
                self.done = True  # a body delimited by the close
            else:
                self._break()
        self._wake()

    # ---- httptools callbacks ----

    def on_header(self, name: bytes, value: bytes) -> None:
        """One header of the answer."""
        self._header_list.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        """The head is in: status, headers, how the body is delimited."""
        self.status = self._parser.get_status_code()
        headers = CIMultiDict(self._header_list)
        self.headers = CIMultiDictProxy(headers)
        self._sized = (
            "content-length" in headers or "chunked" in headers.get("transfer-encoding", "").lower()
        )
        encoding = headers.get("content-encoding", "").lower()
        if encoding in ("gzip", "deflate"):
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)
        if self.status < 200:  # 1xx: an informational head; the real one follows
            self.status, self._header_list, self._informational = 0, [], True
            return
        head = self._head
        if head is not None and not head.done():
            head.set_result(None)

    def on_body(self, body: bytes) -> None:
        """A piece of the body."""
        if self._decoder is not None:
            try:
                body = self._decoder.decompress(body)
            except zlib.error:
                self._break()
                self.close()
                return
        self._chunks.append(body)
        self._held += len(body)
        if self._held > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        """The body ended."""
        if self._informational:
            self._informational = False
            return
        if self._decoder is not None:
            self._chunks.append(self._decoder.flush())
        self._keep_alive = self._parser.should_keep_alive()
        self.done = True

    def _break(self) -> None:
        self.failed = True
        head = self._head
        if head is not None and not head.done():
            head.set_exception(Http1Error("broken"))

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Http1Pool:
    """Idle keep-alive connections by (scheme, host, port), for one event loop; at most
    ``busy_limit`` requests in flight (each holds a slot from ``exchange`` to ``release``)."""

    def __init__(self, busy_limit: int = MAX_BUSY) -> None:
        self.busy_limit = busy_limit
        self._slots = asyncio.Semaphore(busy_limit)
        self._busy: set[Http1Connection] = set()
        self._idle: dict[tuple[bool, str, int], list[Http1Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    def idle(self, target: Target) -> Http1Connection | None:
        """A pooled connection to ``target`` that is still open, if any."""
        pooled = self._idle.get((target.secure, target.host, target.port))
        while pooled:
            connection = pooled.pop()
            transport = connection.transport
            if not connection.lost and transport is not None and not transport.is_closing():
                return connection
        return None

    async def connect(self, target: Target) -> Http1Connection:
        """A new connection to ``target``; raise ``Http1Error`` when none can be made.

        The host's addresses are tried as aiohttp does (happy eyeballs: the next one after
        ``HAPPY_EYEBALLS_DELAY`` s), so a broken IPv6 route does not stall the request."""
        loop = asyncio.get_running_loop()
        tls = self._tls_context() if target.secure else None
        sock: socket.socket | None = None
        try:
            addresses = await _addresses(loop, target)
            sock = await aiohappyeyeballs.start_connection(
                addresses, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY, interleave=1
            )
            transport, connection = await loop.create_connection(
                Http1Connection, sock=sock, ssl=tls, server_hostname=target.host if tls else None
            )
        except ssl.SSLError:
            _close(sock)
            raise Http1Error("tls") from None
        except OSError as exc:
            _close(sock)
            raise _connect_failure(exc) from None
        except BaseException:  # cancelled (a timeout): the socket is not left open
            _close(sock)
            raise
        if connection.transport is None:  # uvloop calls connection_made soon, not now
            connection.transport = transport
        return connection

    @property
    def full(self) -> bool:
        """Whether every slot is taken (the next request waits)."""
        return self._slots.locked()

    async def exchange(
        self, target: Target, payload: bytes, connect_seconds: float
    ) -> Http1Connection:
        """Send ``payload`` and wait for the answer's head, once a slot is free: on a pooled
        connection, and on a new one when the pooled one turns out closed before any byte
        of an answer. The connection holds its slot until ``release``."""
        await self._slots.acquire()
        try:
            connection = await self._exchange(target, payload, connect_seconds)
        except BaseException:
            self._slots.release()
            raise
        self._busy.add(connection)
        return connection

    async def _exchange(
        self, target: Target, payload: bytes, connect_seconds: float
    ) -> Http1Connection:
        connection = self.idle(target)
        if connection is not None:
            try:
                await _begin(connection, payload)
                return connection
            except Http1Error:
                if connection.answered:
                    raise
        try:
            async with asyncio.timeout(connect_seconds):
                connection = await self.connect(target)
        except TimeoutError:
            raise Http1Error("connect-timeout") from None
        await _begin(connection, payload)
        return connection

    def release(self, target: Target, connection: Http1Connection) -> None:
        """Keep ``connection`` for the next request when its answer was read to the end;
        close it otherwise. Its slot is freed (once, however often this is called)."""
        if connection in self._busy:
            self._busy.discard(connection)
            self._slots.release()
        pooled = self._idle.setdefault((target.secure, target.host, target.port), [])
        if connection.reusable and len(pooled) < MAX_IDLE:
            pooled.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        """Close every idle connection."""
        for pooled in self._idle.values():
            for connection in pooled:
                connection.close()
        self._idle.clear()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls


AddressInfo = tuple[int, int, int, str, tuple[Any, ...]]


async def _addresses(loop: asyncio.AbstractEventLoop, target: Target) -> list[AddressInfo]:
    """``target``'s addresses: an IP address as it is (no lookup, no thread), a name by
    the event loop's resolver."""
    try:
        infos = socket.getaddrinfo(
            target.host, target.port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except socket.gaierror:
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    return [(int(f), int(t), p, name, address) for f, t, p, name, address in infos]


def _close(sock: socket.socket | None) -> None:
    if sock is not None:
        sock.close()


def _connect_failure(exc: OSError) -> Http1Error:
    if isinstance(exc, socket.gaierror):
        return Http1Error("dns")
    return Http1Error("connect", refused_detail(exc))


class Body(Protocol):
    """The body of an answer being read, by either client."""

    async def readany(self) -> bytes:
        """What has arrived (waiting for some); ``b""`` at the end; ``Http1Error`` when
        the connection broke."""

    def leftover(self) -> bytes:
        """What arrived before a break and was not handed out."""

    def release(self) -> None:
        """Give the connection back (read to the end) or close it."""


class LeanBody:
    """A lean client's answer body as a ``Body``."""

    __slots__ = ("_connection", "_pool", "_target")

    def __init__(self, pool: Http1Pool, target: Target, connection: Http1Connection) -> None:
        self._pool, self._target, self._connection = pool, target, connection

    async def readany(self) -> bytes:
        """What has arrived of the body (``Http1Connection.readany``)."""
        return await self._connection.readany()

    def leftover(self) -> bytes:
        """What arrived and was not handed out."""
        return self._connection.leftover()

    def release(self) -> None:
        """Back to the pool when read to the end on a kept connection; else closed."""
        self._pool.release(self._target, self._connection)


async def _begin(connection: Http1Connection, payload: bytes) -> None:
    """Send a request on ``connection`` and wait for its answer's head; the connection is
    closed when that fails or is cancelled (a timeout)."""
    try:
        await connection.begin(payload)
    except BaseException:
        connection.close()
        raise


def lean_error(provider: str, exc: Http1Error, url: str) -> ProviderError:
    """Map a lean client's failure before a reply arrived onto the error tree (naming the
    URL's origin only, as ``map_transport_error`` does)."""
    detail = " before an answer came" if exc.kind == "broken" else exc.detail
    return transport_error(provider, exc.kind, url, detail)
