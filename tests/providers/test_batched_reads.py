"""What a fast upstream sends in one read is handled as one batch: SSE events decoded per
read, adjacent deltas joined, nothing lost when an error follows text in the same read."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import Response
from hypothesis import given, settings
from hypothesis import strategies as st

from pytavern.errors import UpstreamServerError
from pytavern.events import (
    Finished,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    UsageEvent,
    merge_deltas,
)
from pytavern.providers._chat import SSEParser, merged_events
from pytavern.providers._sse import (
    DataBatch,
    ServerSentEvent,
    SSERead,
    iter_sse,
    iter_sse_batches,
)
from pytavern.types import Usage
from tests.fakes.server import serve
from tests.providers.chat_helpers import collect, partial_then_error, provider_for, request


def test_adjacent_deltas_are_joined_in_order() -> None:
    usage = UsageEvent(Usage(input_tokens=1))
    events: list[StreamEvent] = [
        TextDelta("a"),
        TextDelta("b"),
        ReasoningDelta("r"),
        ReasoningDelta("s"),
        TextDelta("c"),
        usage,
        TextDelta("d"),
        Finished("stop"),
    ]
    assert merge_deltas(events) == [
        TextDelta("ab"),
        ReasoningDelta("rs"),
        TextDelta("c"),
        usage,
        TextDelta("d"),
        Finished("stop"),
    ]
    assert merge_deltas([TextDelta("x")]) == [TextDelta("x")]


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_sse_batches_follow_the_reads_and_match_single_events() -> None:
    body = (b"data: 1\n\ndata: 2\n\nda", b"ta: 3\n\n", b": comment\n", b"data: 4")
    batches = [[e.data for e in batch] async for batch in iter_sse_batches(_chunks(*body))]
    assert batches == [["1", "2"], ["3"], ["4"]]  # a read completing nothing gives no batch
    assert [e.data async for e in iter_sse(_chunks(*body))] == ["1", "2", "3", "4"]


def _one_read_app(chunks: list[dict[str, object]], done: bool) -> FastAPI:
    app = FastAPI()
    frames = b"".join(b"data: %s\n\n" % json.dumps(chunk).encode() for chunk in chunks)
    body = frames + (b"data: [DONE]\n\n" if done else b"")

    @app.post("/v1/chat/completions")
    async def complete() -> Response:  # the whole stream in one body: one read
        return Response(body, media_type="text/event-stream")

    return app


def _delta(text: str, finish: str | None = None) -> dict[str, object]:
    return {
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }


async def test_a_fast_stream_arrives_as_one_text_event() -> None:
    chunks = [_delta("One"), _delta(" two"), _delta(" three", "stop")]
    with serve(_one_read_app(chunks, done=True)) as url:
        provider = provider_for("custom", f"{url}/v1", "k", model="m")
        events = await collect(provider, request("x"))
        await provider.aclose()
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("One two three")]
    assert isinstance(events[-1], Finished) and events[-1].reason == "stop"


async def test_an_error_after_text_in_the_same_read_keeps_the_text() -> None:
    error = {"error": {"message": "the model crashed", "code": "server_error"}}
    with serve(_one_read_app([_delta("Kept"), _delta(" text"), error], done=False)) as url:
        provider = provider_for("custom", f"{url}/v1", "k", model="m")
        got, raised = await partial_then_error(provider, request("x"))
        await provider.aclose()
    assert got == "Kept text" and isinstance(raised, UpstreamServerError)


def _claude_app(events: list[tuple[str, dict[str, object]]]) -> FastAPI:
    app = FastAPI()
    body = b"".join(
        b"event: %s\ndata: %s\n\n" % (name.encode(), json.dumps(data).encode())
        for name, data in events
    )

    @app.post("/v1/messages")
    async def messages() -> Response:  # the whole stream in one body: one read
        return Response(body, media_type="text/event-stream")

    return app


def _claude_text(text: str) -> tuple[str, dict[str, object]]:
    delta = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": text},
    }
    return "content_block_delta", delta


_CLAUDE_START: list[tuple[str, dict[str, object]]] = [
    (
        "message_start",
        {
            "type": "message_start",
            "message": {"id": "m", "model": "claude-x", "usage": {"input_tokens": 3}},
        },
    ),
    (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
]


async def test_a_fast_claude_stream_arrives_as_one_text_event() -> None:
    end: list[tuple[str, dict[str, object]]] = [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 3},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    events_out = [*_CLAUDE_START, _claude_text("One"), _claude_text(" two"), *end]
    with serve(_claude_app(events_out)) as url:
        provider = provider_for("claude", url, "k", model="claude-x")
        events = await collect(provider, request("x"))
        await provider.aclose()
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("One two")]
    assert isinstance(events[-1], Finished) and events[-1].reason == "stop"


async def test_a_claude_error_after_text_in_the_same_read_keeps_the_text() -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    events_out = [*_CLAUDE_START, _claude_text("Kept"), ("error", overloaded)]
    with serve(_claude_app(events_out)) as url:
        provider = provider_for("claude", url, "k", model="claude-x")
        got, raised = await partial_then_error(provider, request("x"))
        await provider.aclose()
    assert got == "Kept" and "Overloaded" in str(raised)


async def test_a_fast_gemini_stream_arrives_as_one_text_event() -> None:
    def chunk(text: str, finish: str | None = None) -> bytes:
        candidate: dict[str, object] = {"content": {"role": "model", "parts": [{"text": text}]}}
        if finish:
            candidate["finishReason"] = finish
        data = {"candidates": [candidate], "modelVersion": "gemini-x"}
        return b"data: %s\r\n\r\n" % json.dumps(data).encode()

    app = FastAPI()
    body = chunk("One") + chunk(" two") + chunk(" three", "STOP")

    @app.post("/v1beta/models/gemini-x:streamGenerateContent")
    async def stream() -> Response:  # the whole stream in one body: one read
        return Response(body, media_type="text/event-stream")

    with serve(app) as url:
        provider = provider_for("gemini", url, "k", model="gemini-x")
        events = await collect(provider, request("x"))
        await provider.aclose()
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("One two three")]
    assert isinstance(events[-1], Finished) and events[-1].reason == "stop"


async def test_texts_given_as_str_join_like_text_deltas() -> None:
    usage = UsageEvent(Usage(input_tokens=1))
    said: list[list[StreamEvent] | str] = [
        *("a", "", [ReasoningDelta("r")], "b", [TextDelta("c")], "d", []),
        *("e", [usage], "", [usage], "f", [TextDelta("g"), ReasoningDelta("s")], "h"),
    ]

    def as_events(item: list[StreamEvent] | str) -> list[StreamEvent]:
        return ([TextDelta(item)] if item else []) if isinstance(item, str) else item

    async def run(parse: SSEParser, fail_at: int | None = None) -> list[StreamEvent]:
        def failing(sse: ServerSentEvent) -> list[StreamEvent] | str:
            if fail_at is not None and int(sse.data) == fail_at:
                raise UpstreamServerError("boom", provider="p")
            return parse(sse)

        batch = [ServerSentEvent(str(i)) for i in range(len(said))]
        got: list[StreamEvent] = []
        with contextlib.suppress(UpstreamServerError):
            async for event in merged_events(_batch_of(batch), failing, lambda: False):
                got.append(event)
        return got

    for fail_at in (None, *range(len(said))):
        as_str = await run(lambda sse: said[int(sse.data)], fail_at)
        as_lists = await run(lambda sse: as_events(said[int(sse.data)]), fail_at)
        assert as_str == as_lists


async def _batch_of(batch: list[ServerSentEvent]) -> AsyncIterator[list[ServerSentEvent]]:
    yield batch


# ---------- a parser's fast path over a DataBatch gives what the parser gives alone ----------

_PAYLOADS = ["t:a", "t:b", "t:", "r", "u", "fail", "end", "t:c"]
_USAGE = UsageEvent(Usage(input_tokens=1))


class _Toy:
    """A parser of toy payloads: ``t:X`` is the text X (what the fast path takes), ``r``
    reasoning, ``u`` usage, ``fail`` an error, ``end`` the stream's end."""

    def __init__(self) -> None:
        self.done = False
        self.seen: list[str] = []  # in the order the payloads were taken

    def parse(self, sse: ServerSentEvent) -> list[StreamEvent] | str:
        self.seen.append(sse.data)
        if sse.data == "fail":
            raise UpstreamServerError("boom", provider="p")
        if sse.data == "end":
            self.done = True
            return []
        if sse.data.startswith("t:"):
            return sse.data[2:]
        return [ReasoningDelta("r")] if sse.data == "r" else [_USAGE]

    def plain(self, payloads: list[str], start: int, texts: list[str]) -> int:
        for index in range(start, len(payloads)):
            if not payloads[index].startswith("t:"):
                return index
            self.seen.append(payloads[index])
            if payloads[index][2:]:
                texts.append(payloads[index][2:])
        return len(payloads)


async def _toy_run(reads: list[SSERead], fast: bool) -> tuple[list[object], list[str]]:
    async def batches() -> AsyncIterator[SSERead]:
        for read in reads:
            yield read

    toy = _Toy()
    got: list[object] = []
    plain = toy.plain if fast else None
    try:
        async for event in merged_events(batches(), toy.parse, lambda: toy.done, plain):
            got.append(event)
    except UpstreamServerError as error:
        got.append(str(error))
    return got, toy.seen


@settings(max_examples=300, deadline=None)
@given(
    reads=st.lists(st.lists(st.sampled_from(_PAYLOADS), min_size=1, max_size=8), max_size=4),
    as_list=st.lists(st.booleans(), min_size=4, max_size=4),
)
def test_merged_events_fast_path_gives_what_parse_gives(
    reads: list[list[str]], as_list: list[bool]
) -> None:
    slow = [[ServerSentEvent(p) for p in read] for read in reads]
    fast: list[SSERead] = [
        events if listed else DataBatch(read)
        for read, events, listed in zip(reads, slow, as_list, strict=False)
    ]
    expected = asyncio.run(_toy_run(list(slow), fast=False))
    assert asyncio.run(_toy_run(fast, fast=True)) == expected
    assert asyncio.run(_toy_run(fast, fast=False)) == expected  # a DataBatch without the hook
