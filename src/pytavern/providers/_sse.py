"""Incremental decoders for streamed bodies: Server-Sent Events and NDJSON.

Both take the body as an async iterator of byte chunks split anywhere, and yield whole
events or lines. The SSE decoder follows the WHATWG framing rules (blank-line framing,
multi-line ``data``, ``:`` comments, ``event``, ``id``, ``retry``; LF, CRLF or CR line ends).
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One decoded SSE event."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


_SET_DATA, _SET_EVENT, _SET_ID, _SET_RETRY = (
    getattr(ServerSentEvent, name).__set__ for name in ("data", "event", "id", "retry")
)


def _message_events(payloads: list[str], last_id: str | None) -> list[ServerSentEvent]:
    """``ServerSentEvent(payload, "message", last_id, None)`` for each payload, at half the
    cost: the frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``,
    here its slots are set directly (the same values; the fast path's tests compare them)."""
    events: list[ServerSentEvent] = []
    for payload in payloads:
        event = object.__new__(ServerSentEvent)
        _SET_DATA(event, payload)
        _SET_EVENT(event, "message")
        _SET_ID(event, last_id)
        _SET_RETRY(event, None)
        events.append(event)
    return events


class _LineSplitter:
    """Splits decoded text into lines on LF, CRLF or CR, across chunk boundaries."""

    def __init__(self) -> None:
        self._buffer = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, chunk: bytes) -> list[str]:
        """The lines that ``chunk`` completes."""
        return self.split(self.text(chunk))

    def text(self, chunk: bytes) -> str:
        """The held partial line followed by ``chunk`` decoded; give it back to ``split``."""
        text = self._buffer + self._decoder.decode(chunk)
        self._buffer = ""
        return text

    def split(self, text: str) -> list[str]:
        """The whole lines of ``text``; its last, partial line is held for the next chunk."""
        # A trailing CR may be the first half of a CRLF: keep it for the next chunk.
        hold_cr = text.endswith("\r")
        if hold_cr:
            text = text[:-1]
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._buffer = lines.pop() + ("\r" if hold_cr else "")
        return lines

    def flush(self) -> list[str]:
        """The last line, when the body did not end with a line end."""
        rest = self._buffer + self._decoder.decode(b"", final=True)
        self._buffer = ""
        return rest.replace("\r\n", "\n").replace("\r", "\n").split("\n") if rest else []


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

    @property
    def idle(self) -> bool:
        """Whether no event is under way (only the sticky last ``id`` is kept)."""
        return not self._data and not self._event and self._retry is None

    def simple_events(self, text: str) -> list[ServerSentEvent] | None:
        """The events of ``text`` when it is the common framing, else ``None``.

        The common framing is whole events of one ``data: `` line each, LF line ends and
        nothing else (no comment, no other field, no CR): what OpenAI-style servers send.
        ``text`` must end with a blank line and the decoder must be ``idle``; the events
        are those ``feed_line`` would give for the same lines.
        """
        if "\r" in text or not text.startswith("data: "):
            return None
        payloads = text[6:-2].split("\n\ndata: ")
        # One ``data: `` line per event when every LF is in a separator or the last blank line.
        if text.count("\n") != 2 * len(payloads):
            return None
        return _message_events(payloads, self._id)

    def flush(self) -> ServerSentEvent | None:
        """Return the last event if the body ended without a blank line."""
        return self._dispatch()

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data and not self._event:
            return None
        # Positional: a frozen dataclass takes keywords at about twice the cost.
        event = ServerSentEvent(
            "\n".join(self._data), self._event or "message", self._id, self._retry
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
) -> AsyncGenerator[list[ServerSentEvent], None]:
    """Decode a byte stream into SSE events, as the lists each chunk completes (never
    empty): a fast upstream's many events in one read are handled as one batch."""
    splitter = _LineSplitter()
    decoder = SSEDecoder()
    async for chunk in chunks:
        batch = _chunk_events(decoder, splitter, chunk)
        if batch:
            yield batch
    batch = _completed(decoder, splitter.flush())
    last = decoder.flush()
    if last is not None:
        batch.append(last)
    if batch:
        yield batch


def _chunk_events(
    decoder: SSEDecoder, splitter: _LineSplitter, chunk: bytes
) -> list[ServerSentEvent]:
    """The events that ``chunk`` completes: up to its last blank line by the fast path
    (``SSEDecoder.simple_events``) when it applies, the rest line by line."""
    text = splitter.text(chunk)
    cut = text.rfind("\n\n") + 2
    if cut > 1 and decoder.idle:
        events = decoder.simple_events(text[:cut])
        if events is not None:
            if cut < len(text):
                events.extend(_completed(decoder, splitter.split(text[cut:])))
            return events
    return _completed(decoder, splitter.split(text))


def _completed(decoder: SSEDecoder, lines: list[str]) -> list[ServerSentEvent]:
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
