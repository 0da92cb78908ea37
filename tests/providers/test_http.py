"""The HTTP layer itself (``providers._http``): connection reuse, cut bodies, errors that
name no URL, proxies from the environment, and the session's life across event loops.

Upstreams are real HTTP servers on 127.0.0.1: uvicorn apps, or a raw asyncio server where
the test needs bytes no framework would send (a cut chunked body, a malformed answer).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager, suppress
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from pytavern.errors import (
    ConnectFailedError,
    ProviderError,
    StreamInterruptedError,
    UpstreamTimeoutError,
)
from pytavern.providers._http import HttpBackend, Timeouts
from pytavern.providers._http_config import RetryPolicy
from pytavern.types import GenerationRequest
from tests.fakes.server import free_port, serve
from tests.providers.chat_helpers import collect, provider_for, request, text_of

NO_RETRY = RetryPolicy(max_retries=0)
SECRET = "sk-secret-in-the-query-0123456789"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """Serve ``handler`` on loopback in this loop; yield ``http://127.0.0.1:PORT``."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    """One HTTP/1.1 request: its request line, headers (lower-case names) and body."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:] if line)
    headers = {name.lower(): value for name, value in headers.items()}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return head[0], headers, body


# ---------- connection reuse ----------

FRAME = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m"}


def reuse_app(ports: list[int]) -> FastAPI:
    """An OpenAI-compatible stream whose body ends 50 ms after its ``[DONE]`` event."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> StreamingResponse:
        assert request.client is not None
        ports.append(request.client.port)

        async def frames() -> AsyncIterator[bytes]:
            for delta, reason in (({"content": "Hi"}, None), ({"content": " there"}, None)):
                choice = {"index": 0, "delta": delta, "finish_reason": reason}
                yield f"data: {json.dumps(FRAME | {'choices': [choice]})}\n\n".encode()
                await asyncio.sleep(0.02)
            stop = {"index": 0, "delta": {}, "finish_reason": "stop"}
            yield f"data: {json.dumps(FRAME | {'choices': [stop]})}\n\ndata: [DONE]\n\n".encode()
            await asyncio.sleep(0.05)  # the chunked-body terminator comes later

        return StreamingResponse(frames(), media_type="text/event-stream")

    return app


async def first_text_only(provider: Any, req: GenerationRequest) -> None:
    async with aclosing(provider.stream(req)) as events:
        async for _event in events:
            return


async def test_finished_streams_share_one_connection_and_a_stopped_one_does_not() -> None:
    ports: list[int] = []
    with serve(reuse_app(ports)) as url:
        provider = provider_for("custom", f"{url}/v1", None, model="m")
        for _ in range(3):
            assert text_of(await collect(provider, request("x"))) == "Hi there"
        await first_text_only(provider, request("x"))  # stopped: its connection is closed
        assert text_of(await collect(provider, request("x"))) == "Hi there"
        await provider.aclose()
    assert len(ports) == 5
    assert ports[0] == ports[1] == ports[2] == ports[3]  # drained, so back in the pool
    assert ports[4] != ports[3]


# ---------- a chunked body cut mid-way ----------


async def cut_after_two_chunks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n")
    writer.write(b"Transfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n")
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(b"7\r\nsecond\n\r\n")  # then the connection closes with no terminator
    await writer.drain()
    writer.close()


@pytest.mark.parametrize("lag", [0.0, 0.2])
async def test_cut_chunked_body_keeps_what_arrived_then_raises(lag: float) -> None:
    async with raw_server(cut_after_two_chunks) as url:
        backend = HttpBackend("cut", base_url=url, retry=NO_RETRY)
        got: list[bytes] = []
        with pytest.raises(StreamInterruptedError, match="cut before the reply ended"):
            async with backend.open("POST", "/stream", json_body={}) as response:
                async for chunk in backend.iter_bytes(response):
                    got.append(chunk)
                    await asyncio.sleep(lag)  # a consumer that lags behind the cut
        await backend.aclose()
    assert b"".join(got) == b"first\nsecond\n"


# ---------- errors never carry the URL's query string ----------


def no_trace_of_aiohttp(error: ProviderError) -> None:
    assert SECRET not in str(error) and SECRET not in repr(error.to_dict())
    assert error.__cause__ is None and error.__context__ is None


async def test_connect_timeout_names_only_the_origin() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the accept queue, so the next connect hangs
        filler = socket.socket()
        filler.setblocking(False)
        with suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    backend = HttpBackend(
        "slow", base_url=f"http://127.0.0.1:{port}", timeouts=Timeouts(connect=0.3), retry=NO_RETRY
    )
    try:
        with pytest.raises(UpstreamTimeoutError, match="timed out connecting") as caught:
            await backend.request_json("GET", f"/models?key={SECRET}")
        assert f"http://127.0.0.1:{port}" in str(caught.value)
        no_trace_of_aiohttp(caught.value)
    finally:
        await backend.aclose()
        for filler in fillers:
            filler.close()
        listener.close()


async def answer_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HELLO THERE\r\n\r\n")
    await writer.drain()
    writer.close()


async def test_malformed_answer_and_refused_connection_name_no_query() -> None:
    async with raw_server(answer_garbage) as url:
        backend = HttpBackend("bad", base_url=url, retry=NO_RETRY)
        with pytest.raises(StreamInterruptedError, match="broke") as caught:
            await backend.request_json("POST", f"/x?key={SECRET}", json_body={"a": 1})
        no_trace_of_aiohttp(caught.value)
        await backend.aclose()
    refused = HttpBackend("gone", base_url=f"http://127.0.0.1:{free_port()}", retry=NO_RETRY)
    with pytest.raises(ConnectFailedError, match="connection refused") as failed:
        await refused.request_json("GET", f"/x?key={SECRET}")
    no_trace_of_aiohttp(failed.value)
    bad_url = HttpBackend("odd", base_url="ftp://127.0.0.1", retry=NO_RETRY)
    with pytest.raises(ConnectFailedError, match="is not valid"):
        await bad_url.request_json("GET", "/x")
    await refused.aclose()
    await bad_url.aclose()


# ---------- the request as sent; proxies from the environment ----------


def recording(seen: list[tuple[str, dict[str, str], bytes]]) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        body = b'{"ok": true}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    return handle


async def test_json_body_headers_and_env_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    async with raw_server(recording(seen)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        backend = HttpBackend(
            "proxied", base_url="http://upstream.invalid", headers={"Authorization": "Bearer k"}
        )
        answer = await backend.request_json("POST", "/v1/x", json_body={"text": "é", "n": 1})
        await backend.aclose()
    assert answer == {"ok": True}
    line, headers, body = seen[0]
    assert line == "POST http://upstream.invalid/v1/x HTTP/1.1"  # absolute form: a proxy
    assert headers["content-type"] == "application/json"
    assert headers["authorization"] == "Bearer k"
    assert body == '{"text":"é","n":1}'.encode()


async def test_no_proxy_goes_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    async with raw_server(recording(seen)) as url:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        backend = HttpBackend("direct", base_url=url)
        assert await backend.request_json("GET", "/y") == {"ok": True}
        await backend.aclose()
    assert seen[0][0] == "GET /y HTTP/1.1"


async def test_a_proxy_that_is_down_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    backend = HttpBackend("p", base_url="http://upstream.invalid", retry=NO_RETRY)
    with pytest.raises(ConnectFailedError, match=r"proxy for http://upstream\.invalid"):
        await backend.request_json("GET", "/z")
    await backend.aclose()


# ---------- the session's life ----------


def test_session_follows_the_event_loop_and_closes() -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []

    async def twice(backend: HttpBackend) -> list[Any]:
        async with raw_server(recording(seen)) as url:
            return [await backend.request_json("GET", f"{url}/a") for _ in range(2)]

    backend = HttpBackend("loops", base_url="http://127.0.0.1:9")  # built outside any loop
    assert asyncio.run(twice(backend)) == [{"ok": True}] * 2
    assert asyncio.run(twice(backend)) == [{"ok": True}] * 2  # a new loop, a new session
    asyncio.run(backend.aclose())
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(twice(backend))
    assert len(seen) == 4
