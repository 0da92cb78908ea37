"""The lean HTTP/1.1 client (``providers._http1``) through ``HttpBackend``: the request as
sent, the ways a body can end, a pooled connection the server closed, timeouts, and what
it leaves to aiohttp (redirects).

Every upstream is a raw asyncio server on 127.0.0.1 sending the bytes a test needs.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys

import pytest

from pytavern.errors import ConnectFailedError, RateLimitError, UpstreamTimeoutError
from pytavern.providers._http import HttpBackend, Timeouts
from pytavern.providers._http1 import HIGH_WATER, Http1Error, Http1Pool, request_head, target_of
from pytavern.providers._http_config import RetryPolicy
from tests.providers.test_http import Handler, raw_server, read_request

NO_RETRY = RetryPolicy(max_retries=0)


def answering(
    body: bytes, head: bytes = b"", seen: list[tuple[str, dict[str, str], bytes]] | None = None
) -> Handler:
    """A server answering each request on a connection with ``body`` (Content-Length)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while not reader.at_eof():
            try:
                request = await read_request(reader)
            except asyncio.IncompleteReadError:
                break
            if seen is not None:
                seen.append(request)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + head)
            writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        writer.close()

    return handle


async def test_the_request_as_sent() -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    async with raw_server(answering(b'{"ok": 1}', seen=seen)) as url:
        backend = HttpBackend("lean", base_url=url, headers={"Authorization": "Bearer k"})
        answer = await backend.request_json(
            "POST", "/v1/x?a=1", json_body={"n": 1}, params={"b": "2 3"}, headers={"X-Y": "z"}
        )
        backend.encoded_urls = True
        await backend.request_json("GET", "/model/a%3Ab/invoke")
        await backend.aclose()
    assert answer == {"ok": 1}
    (line, headers, body), (signed_line, _, _) = seen
    assert line == "POST /v1/x?a=1&b=2+3 HTTP/1.1"
    assert headers["host"] == url.removeprefix("http://")
    assert headers["authorization"] == "Bearer k" and headers["x-y"] == "z"
    assert headers["content-type"] == "application/json"
    assert headers["content-length"] == str(len(body)) and json.loads(body) == {"n": 1}
    assert signed_line == "GET /model/a%3Ab/invoke HTTP/1.1"  # as given, for SigV4


async def test_repeated_requests_each_send_their_own_length_and_headers() -> None:
    """The head's start is kept per request line and headers: what differs still goes."""
    seen: list[tuple[str, dict[str, str], bytes]] = []
    async with raw_server(answering(b'{"ok": 1}', seen=seen)) as url:
        backend = HttpBackend("lean", base_url=url, headers={"Authorization": "Bearer k"})
        for body, extra in (({"n": 1}, "a"), ({"n": 1000}, "a"), ({"n": 2}, "b")):
            await backend.request_json("POST", "/v1/x", json_body=body, headers={"X-Y": extra})
        await backend.request_json("POST", "/v1/other", json_body={})
        await backend.aclose()
    sent = [(line, h.get("x-y"), int(h["content-length"]), body) for line, h, body in seen]
    assert sent == [
        ("POST /v1/x HTTP/1.1", "a", 7, b'{"n":1}'),
        ("POST /v1/x HTTP/1.1", "a", 10, b'{"n":1000}'),
        ("POST /v1/x HTTP/1.1", "b", 7, b'{"n":2}'),
        ("POST /v1/other HTTP/1.1", None, 2, b"{}"),
    ]
    assert all(h["authorization"] == "Bearer k" for _line, h, _body in seen)


def test_targets() -> None:
    secure = target_of("https://api.example.com/v1/chat", None, encoded=False)
    assert secure is not None and (secure.secure, secure.port) == (True, 443)
    assert secure.host_header == "api.example.com" and secure.path == "/v1/chat"
    local = target_of("http://[::1]:5001/api", None, encoded=False)
    assert local is not None and local.host_header == "[::1]:5001" and local.host == "::1"
    assert target_of("ftp://127.0.0.1/x", None, encoded=False) is None


async def test_a_host_name_is_looked_up_and_its_addresses_tried() -> None:
    """``localhost`` may name ::1 first; the server listens on 127.0.0.1 only."""
    async with raw_server(answering(b'{"found": 1}')) as url:
        backend = HttpBackend("named", base_url=url.replace("127.0.0.1", "localhost"))
        assert await backend.request_json("GET", "/n") == {"found": 1}
        await backend.aclose()


async def test_gzip_and_a_body_delimited_by_the_close() -> None:
    packed = gzip.compress(b'{"zipped": true}')
    async with raw_server(answering(packed, head=b"Content-Encoding: gzip\r\n")) as url:
        backend = HttpBackend("gz", base_url=url)
        assert await backend.request_json("GET", "/a") == {"zipped": True}
        await backend.aclose()

    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
        writer.write(b'{"to the ')
        await writer.drain()
        await asyncio.sleep(0.02)
        writer.write(b'close": 1}')
        writer.close()

    async with raw_server(until_close) as url:
        backend = HttpBackend("close", base_url=url)
        assert await backend.request_json("GET", "/b") == {"to the close": 1}
        await backend.aclose()


async def test_an_informational_head_is_skipped() -> None:
    async def with_continue(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        await writer.drain()
        writer.close()

    async with raw_server(with_continue) as url:
        backend = HttpBackend("continue", base_url=url)
        assert await backend.request_json("POST", "/c", json_body={}) == {}
        await backend.aclose()


async def test_a_pooled_connection_the_server_closed_is_replaced() -> None:
    """The server takes the second request on a kept connection and closes it unanswered
    (an idle timeout racing the request): the request goes again on a new connection."""
    connections: list[int] = []

    async def one_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        await read_request(reader)  # the next one is dropped
        writer.close()

    async with raw_server(one_answer) as url:
        backend = HttpBackend("stale", base_url=url, retry=NO_RETRY)
        for _ in range(3):
            assert await backend.request_json("POST", "/d", json_body={}) == {}
        await backend.aclose()
    assert len(connections) == 3  # 1st; 2nd dropped then answered on a new one; 3rd likewise


async def test_requests_beyond_the_busy_limit_wait_for_a_slot() -> None:
    """A pool lets ``busy_limit`` requests run at once; the next waits until one is
    released (a slot is freed once however often its connection is released), and a
    request that fails frees its slot."""
    finish = asyncio.Event()

    async def slow_bodies(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while not reader.at_eof():
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
            await writer.drain()
            await finish.wait()
            writer.write(b"{}")
            await writer.drain()
        writer.close()

    async with raw_server(slow_bodies) as url:
        pool = Http1Pool(busy_limit=2)
        target = target_of(url + "/x", None, encoded=False)
        assert target is not None
        payload = request_head("GET", target, {}, None)
        first = await pool.exchange(target, payload, 5)
        second = await pool.exchange(target, payload, 5)
        third = asyncio.create_task(pool.exchange(target, payload, 5))
        await asyncio.sleep(0.2)
        assert not third.done()  # both slots are taken
        pool.release(target, first)  # unread: closed, its slot freed
        pool.release(target, first)  # again: no second slot
        held = await asyncio.wait_for(third, 5)
        fourth = asyncio.create_task(pool.exchange(target, payload, 5))
        await asyncio.sleep(0.2)
        assert not fourth.done()
        finish.set()
        pool.release(target, second)
        for connection in (held, await asyncio.wait_for(fourth, 5)):
            pool.release(target, connection)
        pool.close()
    closed = Http1Pool(busy_limit=1)
    for _ in range(2):  # the failed request gave its slot back: the second is not stuck
        with pytest.raises(Http1Error):
            await asyncio.wait_for(closed.exchange(target, payload, 5), 5)


async def test_a_request_that_waits_too_long_for_a_slot_says_so() -> None:
    async with raw_server(answering(b"{}")) as url:
        backend = HttpBackend("busy", base_url=url, timeouts=Timeouts(first_byte=0.3))
        backend._pool, backend._pool_loop = Http1Pool(busy_limit=1), asyncio.get_running_loop()
        async with backend.open("POST", "/x", json_body={}):  # holds the only slot
            with pytest.raises(UpstreamTimeoutError) as waited:
                await backend.request_json("POST", "/x", json_body={})
        assert "already under way" in waited.value.message and waited.value.hint
        assert await backend.request_json("POST", "/x", json_body={}) == {}  # freed
        await backend.aclose()


async def test_redirects_are_followed_by_aiohttp() -> None:
    async def redirect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line, _headers, _body = await read_request(reader)
        if line.startswith("GET /old"):
            writer.write(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /new\r\n")
            writer.write(b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\n")
            writer.write(b'{"new": 1} ')
        await writer.drain()
        writer.close()

    async with raw_server(redirect) as url:
        backend = HttpBackend("moved", base_url=url)
        assert await backend.request_json("GET", "/old") == {"new": 1}
        await backend.aclose()


async def test_a_header_with_a_line_break_is_refused_before_sending() -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    async with raw_server(answering(b"{}", seen=seen)) as url:
        backend = HttpBackend("key", base_url=url, headers={"Authorization": "Bearer k\r\nX: y"})
        with pytest.raises(ConnectFailedError, match="line break") as caught:
            await backend.request_json("GET", "/e")
        await backend.aclose()
    assert "Bearer" not in str(caught.value) and not seen


async def test_timeouts_before_the_head_and_between_pieces() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async with raw_server(silent) as url:
        backend = HttpBackend(
            "mute", base_url=url, timeouts=Timeouts(first_byte=0.2), retry=NO_RETRY
        )
        with pytest.raises(UpstreamTimeoutError, match="no answer within"):
            await backend.request_json("GET", "/f")
        await backend.aclose()

    async def stalls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await asyncio.sleep(5)

    async with raw_server(stalls) as url:
        backend = HttpBackend("stall", base_url=url, timeouts=Timeouts(gap=0.2))
        got: list[bytes] = []
        with pytest.raises(UpstreamTimeoutError, match="stalled"):
            async with backend.open("GET", "/g") as response:
                async for chunk in backend.iter_bytes(response):
                    got.append(chunk)
        await backend.aclose()
    assert got == [b"first"]


async def test_an_error_status_is_read_and_mapped() -> None:
    async def limited(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        body = b'{"error": {"message": "slow down"}}'
        writer.write(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n")
        writer.write(b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        writer.write(body)
        await writer.drain()
        writer.close()

    async with raw_server(limited) as url:
        backend = HttpBackend("busy", base_url=url, retry=NO_RETRY)
        with pytest.raises(RateLimitError, match="slow down") as caught:
            await backend.request_json("POST", "/h", json_body={})
        await backend.aclose()
    assert caught.value.retry_after == 7


async def test_a_large_body_read_slowly_arrives_whole() -> None:
    """More than the high-water mark held for a lagging reader: reading pauses and resumes."""
    block = bytes(range(256)) * 4096  # 1 MiB
    count = 2 * HIGH_WATER // len(block) + 2

    async def large(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (count * len(block)))
        for _ in range(count):
            writer.write(block)
            await writer.drain()
        writer.close()

    async with raw_server(large) as url:
        backend = HttpBackend("large", base_url=url)
        parts: list[bytes] = []
        async with backend.open("GET", "/i") as response:
            await asyncio.sleep(0.3)  # let the body pile up
            async for chunk in backend.iter_bytes(response):
                parts.append(chunk)
        await backend.aclose()
    assert b"".join(parts) == block * count


def test_a_direct_request_does_not_import_aiohttp() -> None:
    """aiohttp (a tenth of a second to import) is loaded for proxies and redirects only."""
    code = """
import asyncio, sys
from pytavern.providers._http import HttpBackend

async def answer(reader, writer):
    await reader.readuntil(b"\\r\\n\\r\\n")
    writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\n{}")
    await writer.drain()
    writer.close()

async def main():
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    backend = HttpBackend("lazy", base_url=f"http://127.0.0.1:{port}")
    assert await backend.request_json("GET", "/") == {}
    await backend.aclose()
    server.close()

asyncio.run(main())
print("aiohttp" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
