"""The OpenAI stream's fast path (``StreamParser.plain_texts`` over a ``DataBatch``) gives
what the per-event path gives: the same events, errors, end and parser state, for any mix
of chunks, framings (LF, CRLF, comments) and reads."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from hypothesis import given, settings
from hypothesis import strategies as st

from pytavern.errors import ProviderError, UpstreamServerError
from pytavern.events import StreamEvent, TextDelta, UsageEvent
from pytavern.providers import _openai_wire as wire
from pytavern.providers._chat import merged_events, parse_json_event
from pytavern.providers._chunk_shape import learn_shape
from pytavern.providers._sse import (
    DataBatch,
    ServerSentEvent,
    SSERead,
    is_done_data,
    is_done_marker,
    iter_sse_batches,
    iter_sse_reads,
    last_index,
    read_head,
)
from pytavern.providers.openai_compat import ChunkReader
from tests.fakes.server import serve
from tests.providers.chat_helpers import collect, provider_for, request


def _chunk(text: object = "tok ", **changes: Any) -> str:
    """A chunk's JSON: the usual text chunk, ``changes`` made to its ``chunk``, ``choice``
    (``choice_*``) and ``delta`` (``delta_*``) objects (a ``None`` change removes a key
    when the name ends with ``_gone``)."""
    delta: dict[str, Any] = {"content": text}
    choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": None}
    chunk: dict[str, Any] = {"id": "c", "object": "chat.completion.chunk", "model": "m"}
    chunk["choices"] = [choice]
    for name, value in changes.items():
        where, key = (delta, name[6:]) if name.startswith("delta_") else (chunk, name)
        if name.startswith("choice_"):
            where, key = choice, name[7:]
        if key.endswith("_gone"):
            where.pop(key[:-5], None)
        else:
            where[key] = value
    return json.dumps(chunk, ensure_ascii=False)


PAYLOADS: dict[str, str] = {
    "text": _chunk("tok "),
    "text2": _chunk("more"),
    "unicode": _chunk("café ☕ "),
    "escaped": _chunk('a\nb "q"'),
    "empty_text": _chunk(""),
    "usage_null": _chunk("u ", usage=None),
    "error_null": _chunk("e ", error=None),
    "error_empty": _chunk("e ", error={}),
    "role": _chunk(delta_content_gone=None, delta_role="assistant"),
    "role_text": _chunk("Hi", delta_role="assistant"),
    "content_null": _chunk(None),
    "finish": _chunk(delta_content_gone=None, choice_finish_reason="stop"),
    "finish_length": _chunk("x", choice_finish_reason="length"),
    "usage": json.dumps(
        {"model": "m", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}
    ),
    "usage_empty": _chunk("x", usage={}),
    "reasoning": _chunk(delta_content_gone=None, delta_reasoning="think "),
    "reasoning_content": _chunk(delta_content_gone=None, delta_reasoning_content="why "),
    "mixed": _chunk("a", delta_reasoning_content="b"),
    "reasoning_null": _chunk("a", delta_reasoning_content=None, delta_reasoning=""),
    "model2": _chunk("m2 ", model="other"),
    "model_empty": _chunk("x", model=""),
    "index1": _chunk("i1", choice_index=1),
    "index_gone": _chunk("i0", choice_index_gone=None),
    "two_choices": json.dumps({"choices": [json.loads(_chunk("x"))["choices"][0]] * 2}),
    "no_choices": json.dumps({"model": "m", "choices": []}),
    "message": _chunk(delta_content_gone=None, choice_message={"content": "msg"}),
    "delta_null": _chunk(choice_delta=None, choice_message={"content": "msg"}),
    "list_content": _chunk([{"type": "text", "text": "x"}]),
    "citations": _chunk("c", citations=["https://example.com"]),
    "error": json.dumps({"error": {"message": "boom", "code": "server_error"}}),
    "error_rate": json.dumps({"error": {"message": "slow", "code": "rate_limit_exceeded"}}),
    "error_in_chunk": _chunk("x", error={"message": "bad"}),
    "not_json": "not json at all",
    "broken_json": '{"choices": [',
    "not_object": "[1, 2]",
    "number": "3",
    "spaced": "  " + _chunk("sp ") + "  ",
    "empty": "",
    "done": "[DONE]",
    "done_spaced": "[DONE]  ",
    # Against reading a chunk by the shape of another (``ChunkShape``):
    "text_compact": _chunk("tok ").replace(", ", ",").replace(": ", ":"),
    "text_says_content": _chunk('"content": "x"'),
    "dup_content": _chunk("first").replace('"content": "first"', '"content": "a", "content": "b"'),
    "logprobs_content": _chunk("lp", choice_logprobs={"content": "not this"}),
    "text_then_model": _chunk("tm ", model_gone=None).replace("}]}", '}], "model": "late"}'),
}
COMMON = ["text", "text", "text2", "usage_null", "role", "finish", "usage", "done"]
COMMON += ["unicode", "escaped", "model2", "dup_content", "logprobs_content"]


def _body(names: list[str], line_end: str, comments: list[int]) -> bytes:
    """The SSE body of the payloads named, each in a ``data:`` line, a comment before the
    frames whose index is in ``comments``."""
    frames = []
    for index, name in enumerate(names):
        if index in comments:
            frames.append(f": keep-alive{line_end}{line_end}")
        frames.append(f"data: {PAYLOADS[name]}{line_end}{line_end}")
    return "".join(frames).encode()


def _reads_of(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, *cuts, len(body)})
    return [body[a:b] for a, b in itertools.pairwise(points)]


class _FeedReader(ChunkReader):
    """The reference: every chunk through ``feed`` (no text shortcut at all)."""

    def parse(self, sse: ServerSentEvent) -> list[StreamEvent] | str:
        data = sse.data.strip()
        if data == "[DONE]":
            self.parser.done = True
            return []
        return self.parser.feed(parse_json_event(sse.data, "p")) if data else []


async def _until_last(
    reads: AsyncIterator[SSERead], find: Callable[[SSERead], int | None]
) -> AsyncIterator[SSERead]:
    """The reads up to the one with the stream's last event, cut after it (as
    ``ChatProvider.sse_reads`` does)."""
    async for read in reads:
        ending = find(read)
        if ending is not None:
            yield read_head(read, ending + 1)
            return
        yield read


Outcome = tuple[list[object], object, object, tuple[object, ...]]


def _error(error: ProviderError) -> tuple[str, str, str | None]:
    return type(error).__name__, error.message, error.hint


async def _run(chunks: list[bytes], kept: frozenset[str] | None, way: str) -> Outcome:
    """The events, error, end and parser state of a stream read one ``way``: ``fast``
    (DataBatch reads, the fast path), ``take`` (event lists, ``parse`` only) or ``feed``."""

    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    reader = (_FeedReader if way == "feed" else ChunkReader)("p", kept)
    if way == "fast":
        reads = _until_last(iter_sse_reads(body()), lambda r: last_index(r, None, is_done_data))
        events = merged_events(reads, reader.parse, reader.ended, reader.plain_texts)
    else:
        batches = _until_last(iter_sse_batches(body()), lambda r: last_index(r, is_done_marker))
        events = merged_events(batches, reader.parse, reader.ended)
    got: list[object] = []
    failure: object = None
    try:
        async for event in events:
            got.append(event)
    except ProviderError as error:
        failure = _error(error)
    try:
        end: object = reader.end()
    except ProviderError as error:
        end = _error(error)
    parser = reader.parser
    return got, failure, end, (parser.model, parser.reason, parser.usage, parser.extra)


def _all_ways(chunks: list[bytes], kept: frozenset[str] | None = None) -> Outcome:
    fast = asyncio.run(_run(chunks, kept, "fast"))
    assert fast == asyncio.run(_run(chunks, kept, "take"))
    assert fast == asyncio.run(_run(chunks, kept, "feed"))
    return fast


@settings(max_examples=400, deadline=None)
@given(
    names=st.lists(st.sampled_from(sorted(PAYLOADS)) | st.sampled_from(COMMON), max_size=14),
    line_end=st.sampled_from(["\n", "\n", "\r\n"]),
    comments=st.lists(st.integers(0, 14), max_size=2),
    kept=st.sampled_from([None, None, frozenset({"citations"})]),
    data=st.data(),
)
def test_the_fast_path_gives_what_the_per_event_path_gives(
    names: list[str],
    line_end: str,
    comments: list[int],
    kept: frozenset[str] | None,
    data: st.DataObject,
) -> None:
    body = _body(names, line_end, comments)
    frame_ends = [i + 2 for i in range(len(body)) if body[i : i + 2] == b"\n\n"]
    cut = st.integers(0, len(body)) | st.sampled_from(frame_ends or [0])
    _all_ways(_reads_of(body, data.draw(st.lists(cut, max_size=3))), kept)


def test_each_payload_alone_and_after_text_in_one_read() -> None:
    for name in PAYLOADS:
        for names in ([name], ["text", name, "text2"], ["role", name, "finish", "done"]):
            for line_end in ("\n", "\r\n"):
                _all_ways([_body(names, line_end, [])])


def test_the_usual_stream_in_two_reads() -> None:
    names = ["role", *["text"] * 20, "usage_null", "finish", "usage", "done"]
    body = _body(names, "\n", [])
    cut = body.index(b"\n\n", 400) + 2
    got, failure, end, state = _all_ways([body[:cut], body[cut:]])
    texts = [e for e in got if isinstance(e, TextDelta)]
    assert "".join(t.text for t in texts) == "tok " * 20 + "u " and len(texts) == 2
    assert failure is None and state[:2] == ("m", "stop")
    assert isinstance(end, list) and isinstance(end[0], UsageEvent)


def test_an_error_mid_read_comes_after_the_texts_before_it() -> None:
    body = _body(["text", "text2", "error", "text"], "\n", [])
    got, failure, _end, _state = _all_ways([body])
    assert got == [TextDelta("tok more")]
    assert failure == (
        "UpstreamServerError",
        "p: the backend reported an error mid-reply: boom",
        "Try again in a moment",
    )


def test_a_line_that_is_not_json_fails_as_before() -> None:
    got, failure, _end, _state = _all_ways([_body(["text", "not_json", "text"], "\n", [])])
    assert got == [TextDelta("tok ")]
    assert failure == (
        "StreamProtocolError",
        "p: the stream carried a line that is not JSON: 'not json at all'",
        "The server does not speak this API correctly; check the URL and API type",
    )


def test_the_fast_path_takes_the_usual_chunks_and_parse_the_others() -> None:
    reader = ChunkReader("p", None)
    parsed: list[str] = []

    def parse(sse: ServerSentEvent) -> list[StreamEvent] | str:
        parsed.append(sse.data)
        return reader.parse(sse)

    names = ["role", "text", "usage_null", "mixed", "text", "finish", "usage", "done"]
    batch = DataBatch([PAYLOADS[name] for name in names])
    assert reader.plain_texts is not None

    async def run() -> list[StreamEvent]:
        async def reads() -> AsyncIterator[SSERead]:
            yield batch

        merged = merged_events(reads(), parse, reader.ended, reader.plain_texts)
        return [event async for event in merged]

    asyncio.run(run())
    assert parsed == [PAYLOADS["mixed"], PAYLOADS["usage"], "[DONE]"]


def test_plain_texts_takes_nothing_when_fields_are_kept() -> None:
    parser = wire.StreamParser("p", frozenset({"citations"}))
    texts: list[str] = []
    assert parser.plain_texts([PAYLOADS["text"]] * 3, 1, texts) == 1 and texts == []
    assert ChunkReader("p", frozenset({"citations"})).plain_texts is None


def test_plain_texts_stops_at_the_first_chunk_it_does_not_take() -> None:
    parser = wire.StreamParser("p")
    texts: list[str] = []
    payloads = [PAYLOADS[n] for n in ("text", "empty_text", "model2", "reasoning", "text")]
    assert parser.plain_texts(payloads, 0, texts) == 3
    assert texts == ["tok ", "m2 "] and parser.model == "other"
    assert parser.plain_texts(payloads, 4, texts) == 5 and parser.model == "m"


def test_the_usual_chunks_are_read_by_their_shape() -> None:
    parser = wire.StreamParser("p")
    texts: list[str] = []
    names = ["role", "text", "text2", "unicode", "escaped", "text_says_content", "text"]
    assert parser.plain_texts([PAYLOADS[name] for name in names], 0, texts) == len(names)
    assert texts == ["tok ", "more", "café ☕ ", 'a\nb "q"', '"content": "x"', "tok "]
    assert parser._shaped == len(names) - 2  # all but the role chunk and the first text


def test_a_shape_is_found_only_where_the_text_is_read() -> None:
    parser = wire.StreamParser("p")
    for name, text in (("dup_content", "b"), ("logprobs_content", "lp"), ("text", "tok ")):
        payload = PAYLOADS[name]
        shape = learn_shape(payload, json.loads(payload), text, parser._plain_text)
        assert shape is not None and shape.model == "m" and shape.reason is None
        payloads = [payload, payload.replace(f'"{text}"', '"other"'), payload, PAYLOADS["text"]]
        payloads.insert(3, payload.replace(f'"{text}"', '"x", "y": "z"'))
        texts: list[str] = []
        assert shape.read_run(payloads, 0, texts) == 3 and texts == [text, "other", text]
    for name in ("role", "finish", "content_null"):
        payload = PAYLOADS[name]
        assert learn_shape(payload, json.loads(payload), "", parser._plain_text) is None


def test_a_server_whose_chunks_all_differ_pays_for_three_tries() -> None:
    parser = wire.StreamParser("p")
    payloads = [_chunk(f"t{i} ", id=f"c{i}") for i in range(40)]
    texts: list[str] = []
    tried = 0
    learn = parser._learn_shape

    def counted(payload: str, data: Any, text: str) -> Any:
        nonlocal tried
        tried += 1
        return learn(payload, data, text)

    parser._learn_shape = counted  # type: ignore[method-assign]
    assert parser.plain_texts(payloads, 0, texts) == 40 and len(texts) == 40
    assert parser._shape_tries == 3 and parser._shaped == 0 and tried == 40


# ---------- through the provider: LF (the fast path) and CRLF (line by line) agree ----------


def _app(body: bytes) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete() -> Response:
        return Response(body, media_type="text/event-stream")

    return app


async def _provider_events(body: bytes) -> tuple[list[StreamEvent], object]:
    with serve(_app(body)) as url:
        provider = provider_for("custom", f"{url}/v1", "k", model="m")
        try:
            return await collect(provider, request("x")), None
        except ProviderError as error:
            return [], _error(error)
        finally:
            await provider.aclose()


async def test_the_provider_gives_the_same_events_for_lf_and_crlf_bodies() -> None:
    names = ["role", "text", "reasoning", "text2", "usage_null", "finish", "usage", "done"]
    after_done = b"data: not json, never read\n\n"
    lf = await _provider_events(_body(names, "\n", []) + after_done)
    crlf = await _provider_events(_body(names, "\r\n", []) + after_done)
    assert lf == crlf and lf[1] is None
    events = lf[0]
    assert TextDelta("moreu ") in events and isinstance(events[-2], UsageEvent)


async def test_the_provider_raises_a_chunk_error_after_the_text_before_it() -> None:
    body = _body(["text", "text2", "error"], "\n", [])
    with serve(_app(body)) as url:
        provider = provider_for("custom", f"{url}/v1", "k", model="m")
        got: list[StreamEvent] = []
        try:
            async for event in provider.stream(request("x")):
                got.append(event)
        except UpstreamServerError as error:
            assert "boom" in str(error)
        else:
            raise AssertionError("the stream did not fail")
        finally:
            await provider.aclose()
    assert got == [TextDelta("tok more")]


@pytest.mark.parametrize(
    ("chunk", "what"),
    [
        ({"choices": "tok"}, "'choices' that is not a list"),
        ({"choices": {"0": {"delta": {"content": "x"}}}}, "'choices' that is not a list"),
        ({"choices": ["tok"]}, "a choice that is not an object"),
        ({"choices": [{"delta": "tok"}]}, "a choice's delta that is not an object"),
        ({"choices": [{"message": ["tok"]}]}, "a choice's delta that is not an object"),
    ],
)
def test_a_malformed_choice_is_a_protocol_error_with_a_hint(chunk: object, what: str) -> None:
    body = "data: " + json.dumps({"choices": [{"delta": {"content": "tok "}}]}) + "\n\n"
    body += "data: " + json.dumps(chunk) + "\n\n"
    got, failure, _end, _state = _all_ways([body.encode()])
    assert got == [TextDelta("tok ")]
    assert failure == (
        "StreamProtocolError",
        f"p: the stream carried {what}",
        "The server does not speak this API correctly; check the URL and API type",
    )
