"""The SSE and NDJSON decoders, fed the same bodies split at every byte boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pytavern.providers._sse import ServerSentEvent, iter_lines, iter_sse

BODY = (
    b": comment\r\n"
    b"event: message_start\r\n"
    b'data: {"a": 1}\r\n\r\n'
    b"data: line one\n"
    b"data: line two\n\n"
    b"id: 7\rdata: caf\xc3\xa9\r\r"
    b"data: [DONE]"
)
EXPECTED = [
    ServerSentEvent(data='{"a": 1}', event="message_start"),
    ServerSentEvent(data="line one\nline two"),
    ServerSentEvent(data="café", id="7"),
    ServerSentEvent(data="[DONE]", id="7"),
]


async def chunks_of(body: bytes, *cuts: int) -> AsyncIterator[bytes]:
    start = 0
    for cut in (*cuts, len(body)):
        yield body[start:cut]
        start = cut


async def collect_sse(body: bytes, *cuts: int) -> list[ServerSentEvent]:
    return [event async for event in iter_sse(chunks_of(body, *cuts))]


async def test_sse_whole_body() -> None:
    assert await collect_sse(BODY) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(BODY)))
async def test_sse_split_anywhere(cut: int) -> None:
    assert await collect_sse(BODY, cut) == EXPECTED


async def test_sse_split_every_byte() -> None:
    assert await collect_sse(BODY, *range(1, len(BODY))) == EXPECTED


async def test_ndjson_lines_split_anywhere() -> None:
    body = b'{"a":1}\n\n{"b":2}\r\n{"c":3}'
    for cut in range(1, len(body)):
        lines = [line async for line in iter_lines(chunks_of(body, cut))]
        assert lines == ['{"a":1}', '{"b":2}', '{"c":3}']
