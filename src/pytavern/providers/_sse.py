"""Incremental decoders for streamed bodies: Server-Sent Events and NDJSON.

Both take the body as an async iterator of byte chunks split anywhere, and yield whole
events or lines. The SSE decoder follows the WHATWG framing rules (blank-line framing,
multi-line ``data``, ``:`` comments, ``event``, ``id``, ``retry``; LF, CRLF or CR line ends).
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One decoded SSE event."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class _LineSplitter:
    """Splits decoded text into lines on LF, CRLF or CR, across chunk boundaries."""

    def __init__(self) -> None:
        self._buffer = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, chunk: bytes) -> Iterator[str]:
        text = self._buffer + self._decoder.decode(chunk)
        # A trailing CR may be the first half of a CRLF: keep it for the next chunk.
        hold_cr = text.endswith("\r")
        if hold_cr:
            text = text[:-1]
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._buffer = lines.pop() + ("\r" if hold_cr else "")
        yield from lines

    def flush(self) -> Iterator[str]:
        rest = self._buffer + self._decoder.decode(b"", final=True)
        self._buffer = ""
        if rest:
            yield from rest.replace("\r\n", "\n").replace("\r", "\n").split("\n")


class SSEDecoder:
    """Turns lines of an SSE body into ``ServerSentEvent`` values."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None

    def feed_line(self, line: str) -> ServerSentEvent | None:
        """Take one line; return an event when a blank line completes one."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def flush(self) -> ServerSentEvent | None:
        """Return the last event if the body ended without a blank line."""
        return self._dispatch()

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data and not self._event:
            return None
        event = ServerSentEvent(
            data="\n".join(self._data),
            event=self._event or "message",
            id=self._id,
            retry=self._retry,
        )
        self._data, self._event, self._retry = [], "", None
        return event


async def iter_sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
    """Decode a byte stream into SSE events."""
    async for batch in iter_sse_batches(chunks):
        for event in batch:
            yield event


async def iter_sse_batches(
    chunks: AsyncIterator[bytes],
) -> AsyncIterator[list[ServerSentEvent]]:
    """Decode a byte stream into SSE events, as the lists each chunk completes (never
    empty): a fast upstream's many events in one read are handled as one batch."""
    splitter = _LineSplitter()
    decoder = SSEDecoder()
    async for chunk in chunks:
        batch = _completed(decoder, splitter.feed(chunk))
        if batch:
            yield batch
    batch = _completed(decoder, splitter.flush())
    last = decoder.flush()
    if last is not None:
        batch.append(last)
    if batch:
        yield batch


def _completed(decoder: SSEDecoder, lines: Iterator[str]) -> list[ServerSentEvent]:
    """The events that ``lines`` complete."""
    events = []
    for line in lines:
        event = decoder.feed_line(line)
        if event is not None:
            events.append(event)
    return events


async def iter_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Decode a byte stream into non-empty lines (for NDJSON bodies)."""
    splitter = _LineSplitter()
    async for chunk in chunks:
        for line in splitter.feed(chunk):
            if line.strip():
                yield line
    for line in splitter.flush():
        if line.strip():
            yield line


def is_done_marker(event: ServerSentEvent) -> bool:
    """Whether ``event`` is OpenAI's end-of-stream marker, ``data: [DONE]``."""
    return event.data.strip() == "[DONE]"
