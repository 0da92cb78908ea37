"""The SSE and NDJSON decoders, fed the same bodies split at every byte boundary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytavern.providers._sse import (
    UNFRAMED_JSON,
    DataBatch,
    ServerSentEvent,
    SSEDecoder,
    SSERead,
    _LineSplitter,
    is_done_data,
    is_done_marker,
    iter_lines,
    iter_sse,
    iter_sse_batches,
    iter_sse_reads,
    last_index,
    read_events,
    read_head,
    simple_payloads,
)

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


UNFRAMED_BODY = b'data: {"a": 1}\n\ndata: {"b": 2}\n{"error":"said: this"}'
"""A body whose last line is JSON outside SSE framing (Chutes' mid-reply error)."""


@pytest.mark.parametrize("cut", range(len(UNFRAMED_BODY)))
async def test_an_unframed_json_line_comes_last_when_asked(cut: int) -> None:
    reads = iter_sse_reads(chunks_of(UNFRAMED_BODY, cut), unframed_json=True)
    events = [event async for read in reads for event in read_events(read)]
    assert events == [
        ServerSentEvent('{"a": 1}'),
        ServerSentEvent('{"b": 2}'),
        ServerSentEvent('{"error":"said: this"}', UNFRAMED_JSON),
    ]
    assert await collect_sse(UNFRAMED_BODY, cut) == events[:2]


async def test_ndjson_lines_split_anywhere() -> None:
    body = b'{"a":1}\n\n{"b":2}\r\n{"c":3}'
    for cut in range(1, len(body)):
        lines = [line async for line in iter_lines(chunks_of(body, cut))]
        assert lines == ['{"a":1}', '{"b":2}', '{"c":3}']


# ---------- the fast path for the common framing gives what the line decoder gives ----------

_VALUE = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=6
)
_FIELDS = st.sampled_from(
    [
        *("data:x", "data", "data:  two", "event: e", "id: 7", "id: a\0b", "retry: 15"),
        *("retry: x", ": comment", ":", "", "other: f", "\ufeffdata: bom"),
    ]
)
_LINE = st.tuples(
    _FIELDS | _VALUE.map("data: {}".format), st.sampled_from(["\n", "\r\n", "\r"])
).map("".join)
_PIECES = st.one_of(
    _VALUE.map("data: {}\n\n".format),  # the common framing
    _LINE,
    _LINE,
    st.sampled_from([b"\xff", b"\xc3"]),  # bytes that are not UTF-8
)


def _reference_batches(chunks: list[bytes]) -> list[list[ServerSentEvent]]:
    """``iter_sse_batches`` done line by line only (the decoder without its fast path)."""
    splitter, decoder = _LineSplitter(), SSEDecoder()
    batches = []
    for chunk in [*chunks, None]:
        lines = splitter.feed(chunk) if chunk is not None else splitter.flush()
        batch = [event for line in lines if (event := decoder.feed_line(line)) is not None]
        if chunk is None and (last := decoder.flush()) is not None:
            batch.append(last)
        if batch:
            batches.append(batch)
    return batches


async def _batches(chunks: list[bytes]) -> list[list[ServerSentEvent]]:
    async def reads() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [batch async for batch in iter_sse_batches(reads())]


async def _reads(chunks: list[bytes]) -> list[SSERead]:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [read async for read in iter_sse_reads(body())]


@settings(max_examples=500, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=12), data=st.data())
def test_fast_path_matches_the_line_decoder(pieces: list[str | bytes], data: st.DataObject) -> None:
    body = b"".join(p if isinstance(p, bytes) else p.encode() for p in pieces)
    line_ends = [i + 1 for i, byte in enumerate(body) if byte in b"\r\n"] or [0]
    cut = st.integers(0, len(body)) | st.sampled_from(line_ends)  # reads often end a line
    cuts = sorted(data.draw(st.lists(cut, max_size=4)))
    chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    reference = _reference_batches(chunks)
    assert asyncio.run(_batches(chunks)) == reference
    reads = asyncio.run(_reads(chunks))
    assert [read_events(read) for read in reads] == reference
    for read in reads:  # what ends a stream is found in a read as in its events
        events = read_events(read)
        for ends in (is_done_data, lambda data: data.startswith("x")):
            expected = next((i for i, e in enumerate(events) if ends(e.data)), None)
            assert last_index(read, is_last_data=ends) == expected
            assert last_index(read, is_last=lambda e, f=ends: f(e.data)) == expected
        for count in range(len(events) + 1):
            assert read_events(read_head(read, count)) == events[:count]


@pytest.mark.parametrize(
    "chunks",
    [
        [b"id: 7\n", b"data: x\n\n"],  # the last id is sticky
        [b"retry: 15\n", b"data: x\n\n"],  # an event under way: the line decoder
        [b"event: e\n", b"data: x\n\n"],
        [b"data: a\n", b"data: b\n\n"],
        [b"data: a\ndata: b\n\n"],  # multi-line data
        [b"data: a\n\nevent: e\n\n"],
        [b"data: a\n\n\n\ndata: b\n\n"],
        [b"data: a\r", b"\n\ndata: b\n\n"],  # a held CR
        [b"data: a\n\ndata: b\r\n\r\ndata: c"],  # the fast path, then the line decoder
    ],
)
def test_fast_path_edges(chunks: list[bytes]) -> None:
    assert asyncio.run(_batches(chunks)) == _reference_batches(chunks)


def test_the_common_framing_skips_the_line_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lines(self: SSEDecoder, line: str) -> None:
        raise AssertionError(f"line decoder used for {line!r}")

    body = b'data: {"a": 1}\n\ndata: caf\xc3\xa9 :\n\n'
    monkeypatch.setattr(SSEDecoder, "feed_line", no_lines)
    batches = asyncio.run(_batches([body[:5], body[5:]]))
    assert batches == [[ServerSentEvent('{"a": 1}'), ServerSentEvent("café :")]]


def test_a_read_in_the_common_framing_is_its_data_alone() -> None:
    body = b'data: {"a": 1}\n\ndata: [DONE]\n\n'
    reads = asyncio.run(_reads([b"id: 7\n\n", body, b"data: x\ndata: y\n\n"]))
    assert reads[0] == DataBatch(['{"a": 1}', "[DONE]"], "7")  # the sticky id is kept
    assert reads[0].events() == [
        ServerSentEvent('{"a": 1}', "message", "7"),
        ServerSentEvent("[DONE]", "message", "7"),
    ]
    assert reads[0].event(1) == ServerSentEvent("[DONE]", "message", "7")
    assert reads[1] == [ServerSentEvent("x\ny", "message", "7")]  # two data lines: a list
    assert last_index(reads[0], is_last=is_done_marker) == 1
    assert last_index(reads[0]) is None  # nothing says what ends the stream


@pytest.mark.parametrize(
    ("text", "payloads"),
    [
        ("data: a\n\ndata: b\n\n", ["a", "b"]),
        ("data: \n\n", [""]),
        ("data: a\ndata: b\n\n", None),  # two lines in one event
        ("data: a\n\n\ndata: b\n\n", None),  # an empty line more
        ("data: a\n\n\n\n", None),
        ("data: a\r\n\r\n", None),  # CR: the line decoder
        ("data:a\n\n", None),  # no space after the colon
        ("event: e\ndata: a\n\n", None),
    ],
)
def test_simple_payloads_only_of_one_data_line_per_event(
    text: str, payloads: list[str] | None
) -> None:
    assert simple_payloads(text) == payloads


@given(
    st.lists(
        st.sampled_from(["[DONE]", " [DONE]\t", "x[DONE]", "[DO", "NE]", "text", "", "[done]"]),
        max_size=8,
    )
)
def test_the_done_marker_is_found_as_a_call_per_event_finds_it(datas: list[str]) -> None:
    expected = next((i for i, data in enumerate(datas) if data.strip() == "[DONE]"), None)
    assert is_done_data.first_in(datas) == expected
