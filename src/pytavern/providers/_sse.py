"""Incremental decoders for streamed bodies: Server-Sent Events and NDJSON.

Both take the body as an async iterator of byte chunks split anywhere, and yield whole
events or lines. The SSE decoder follows the WHATWG framing rules (blank-line framing,
multi-line ``data``, ``:`` comments, ``event``, ``id``, ``retry``; LF, CRLF or CR line ends).
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One decoded SSE event."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


UNFRAMED_JSON = "unframed-json"
"""The event name ``iter_sse_reads(..., unframed_json=True)`` gives a JSON object line
that came outside SSE framing (no ``data:``) in a body that ended without its last event:
Chutes sends an error that strikes mid-reply so, as the body's last bytes."""

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


@dataclass(frozen=True, slots=True)
class DataBatch:
    """The events of one read when all of them came in the common framing (see
    ``SSEDecoder.simple_events``), by their data alone: event ``i`` is
    ``ServerSentEvent(payloads[i], "message", last_id, None)``. A consumer that reads only
    the data skips building one object per event; ``events()`` builds them."""

    payloads: list[str]
    last_id: str | None = None

    def events(self) -> list[ServerSentEvent]:
        """The events themselves."""
        return _message_events(self.payloads, self.last_id)

    def event(self, index: int) -> ServerSentEvent:
        """Event ``index`` itself."""
        return _message_events([self.payloads[index]], self.last_id)[0]

    def head(self, count: int) -> DataBatch:
        """The batch of the first ``count`` events."""
        return DataBatch(self.payloads[:count], self.last_id)


SSERead = list[ServerSentEvent] | DataBatch
"""The events one read of the body completed (never none): a ``DataBatch`` when they all
came in the common framing, else a list."""


def read_events(read: SSERead) -> list[ServerSentEvent]:
    """The events of ``read`` as a list (built when it is a ``DataBatch``)."""
    return read if isinstance(read, list) else read.events()


def last_index(
    read: SSERead,
    is_last: Callable[[ServerSentEvent], bool] | None = None,
    is_last_data: Callable[[str], bool] | None = None,
) -> int | None:
    """The index of the first event of ``read`` that ends the stream: that ``is_last``
    says so of, or, given ``is_last_data``, whose data that says so of; ``None`` when none
    does (or neither is given)."""
    if is_last_data is not None:
        datas = read.payloads if isinstance(read, DataBatch) else [e.data for e in read]
        if isinstance(is_last_data, DataMarker):
            return is_last_data.first_in(datas)
        return next((i for i, data in enumerate(datas) if is_last_data(data)), None)
    if is_last is not None:
        return next((i for i, e in enumerate(read_events(read)) if is_last(e)), None)
    return None


def read_head(read: SSERead, count: int) -> SSERead:
    """The read of the first ``count`` events of ``read``."""
    return read[:count] if isinstance(read, list) else read.head(count)


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
    """Turns lines of an SSE body into ``ServerSentEvent`` values.

    ``unframed`` is the last line that looked like a JSON object (it starts with ``{``)
    rather than an SSE field; such a line is no event (the SSE rules ignore it).
    """

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None
        self.unframed: str | None = None

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
        elif line.startswith("{"):
            self.unframed = line
        return None

    @property
    def idle(self) -> bool:
        """Whether no event is under way (only the sticky last ``id`` is kept)."""
        return not self._data and not self._event and self._retry is None

    @property
    def last_id(self) -> str | None:
        """The last event id seen (sticky: every later event carries it)."""
        return self._id

    def simple_events(self, text: str) -> list[ServerSentEvent] | None:
        """The events of ``text`` when it is the common framing, else ``None``.

        The common framing is whole events of one ``data: `` line each, LF line ends and
        nothing else (no comment, no other field, no CR): what OpenAI-style servers send.
        ``text`` must end with a blank line and the decoder must be ``idle``; the events
        are those ``feed_line`` would give for the same lines.
        """
        payloads = simple_payloads(text)
        return None if payloads is None else _message_events(payloads, self._id)

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


def simple_payloads(text: str) -> list[str] | None:
    """The data of the events of ``text`` when it is the common framing (see
    ``SSEDecoder.simple_events``, which has the same conditions), else ``None``."""
    if "\r" in text or not text.startswith("data: "):
        return None
    payloads = text[6:-2].split("\n\ndata: ")
    # One ``data: `` line per event when every LF is in a separator or the last blank line:
    # when no payload holds one (a join and a search cost a tenth of ``text.count``).
    if "\n" in "".join(payloads):
        return None
    return payloads


async def iter_sse_batches(
    chunks: AsyncIterator[bytes],
) -> AsyncGenerator[list[ServerSentEvent], None]:
    """Decode a byte stream into SSE events, as the lists each chunk completes (never
    empty): a fast upstream's many events in one read are handled as one batch."""
    async with aclosing(iter_sse_reads(chunks)) as reads:
        async for read in reads:
            yield read_events(read)


async def iter_sse_reads(
    chunks: AsyncIterator[bytes], *, unframed_json: bool = False
) -> AsyncGenerator[SSERead, None]:
    """``iter_sse_batches``, but a read whose events all came in the common framing is
    given as a ``DataBatch`` (their data only, no event objects built). With
    ``unframed_json``, a JSON object line sent outside SSE framing comes last, when the
    body ends, as an event named ``UNFRAMED_JSON`` (a stream that ends at its last event
    is not read to its end)."""
    splitter = _LineSplitter()
    decoder = SSEDecoder()
    async for chunk in chunks:
        read = _chunk_read(decoder, splitter, chunk)
        if read:
            yield read
    batch = _completed(decoder, splitter.flush())
    last = decoder.flush()
    if last is not None:
        batch.append(last)
    if unframed_json and decoder.unframed is not None:
        batch.append(ServerSentEvent(decoder.unframed, UNFRAMED_JSON, decoder.last_id))
    if batch:
        yield batch


def _chunk_read(decoder: SSEDecoder, splitter: _LineSplitter, chunk: bytes) -> SSERead:
    """The events that ``chunk`` completes (an empty list when none): up to its last blank
    line by the fast path (``simple_payloads``) when it applies, the rest line by line."""
    text = splitter.text(chunk)
    cut = text.rfind("\n\n") + 2
    if cut > 1 and decoder.idle:
        payloads = simple_payloads(text[:cut])
        if payloads is not None:
            fast = DataBatch(payloads, decoder.last_id)
            if cut == len(text):
                return fast
            rest = _completed(decoder, splitter.split(text[cut:]))
            return fast.events() + rest if rest else fast
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
    return is_done_data(event.data)


@dataclass(frozen=True, slots=True)
class DataMarker:
    """An end-of-stream marker that is an event's whole data (blanks aside); called with
    an event's data, says whether it is the marker."""

    text: str

    def __call__(self, data: str) -> bool:
        """Whether ``data`` is the marker."""
        return data.strip() == self.text

    def first_in(self, datas: list[str]) -> int | None:
        """The index of the first of ``datas`` that is the marker, or ``None``: found by
        searches of their join, an event at a time only before an exact one where the
        marker's text is also found."""
        if self.text not in "".join(datas):
            return None
        try:
            exact: int | None = datas.index(self.text)
        except ValueError:
            exact = None
        before = datas if exact is None else datas[:exact]
        if self.text in "".join(before):
            found = next((i for i, data in enumerate(before) if self(data)), None)
            return exact if found is None else found
        return exact


is_done_data = DataMarker("[DONE]")
"""Whether an event's data is OpenAI's end-of-stream marker, ``[DONE]``."""
