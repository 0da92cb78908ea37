"""AWS event-stream framing (``application/vnd.amazon.eventstream``), decoded incrementally.

A message is: a 12-byte prelude (total length, headers length, both big-endian uint32, and
the CRC32 of those 8 bytes), the headers, the payload, and the CRC32 of everything before
it. A header is a 1-byte name length, the name, a 1-byte type and the value (``7`` is a
string with a 2-byte length; bools, integers, bytes, timestamps and UUIDs are read too).
Any bad length or checksum raises ``EventStreamError``; bytes left over when the body ends
mean the stream was cut inside a message.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

PRELUDE = 12
MAX_MESSAGE = 16 * 1024 * 1024
"""The largest message accepted (AWS allows 16 MiB)."""
_FIXED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


class EventStreamError(ValueError):
    """The bytes do not follow the event-stream framing (bad length or checksum)."""


@dataclass(frozen=True, slots=True)
class EventMessage:
    """One decoded message: its headers and raw payload."""

    headers: dict[str, Any]
    payload: bytes

    def header(self, name: str) -> str:
        """A header's value as text (``""`` when absent)."""
        value = self.headers.get(name)
        return value if isinstance(value, str) else ""


def _crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def parse_headers(data: bytes) -> dict[str, Any]:
    """Decode a message's header block."""
    headers: dict[str, Any] = {}
    at = 0
    try:
        while at < len(data):
            size = data[at]
            name = data[at + 1 : at + 1 + size].decode("utf-8")
            at += 1 + size
            kind = data[at]
            at += 1
            headers[name], at = _value(data, at, kind)
    except (IndexError, struct.error, UnicodeDecodeError):
        raise EventStreamError("an event-stream header is cut short") from None
    return headers


def _value(data: bytes, at: int, kind: int) -> tuple[Any, int]:
    if kind in (0, 1):
        return kind == 0, at
    if kind in _FIXED:
        fmt = _FIXED[kind]
        return struct.unpack_from(fmt, data, at)[0], at + struct.calcsize(fmt)
    if kind in (6, 7):
        (size,) = struct.unpack_from(">H", data, at)
        raw = data[at + 2 : at + 2 + size]
        if len(raw) != size:
            raise EventStreamError("an event-stream header value is cut short")
        return (raw.decode("utf-8") if kind == 7 else raw), at + 2 + size
    if kind == 9:
        return data[at : at + 16], at + 16
    raise EventStreamError(f"unknown event-stream header type {kind}")


class EventStreamDecoder:
    """Turns body chunks (split anywhere) into ``EventMessage`` values."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[EventMessage]:
        """Take a chunk; return the messages it completes."""
        self._buffer.extend(chunk)
        messages: list[EventMessage] = []
        while len(self._buffer) >= PRELUDE:
            total, header_size, prelude_crc = struct.unpack_from(">III", self._buffer)
            if _crc(bytes(self._buffer[:8])) != prelude_crc:
                raise EventStreamError("an event-stream prelude fails its checksum")
            if total < PRELUDE + 4 or total > MAX_MESSAGE or header_size > total - PRELUDE - 4:
                raise EventStreamError(f"an event-stream message claims {total} bytes")
            if len(self._buffer) < total:
                break
            frame = bytes(self._buffer[:total])
            del self._buffer[:total]
            (message_crc,) = struct.unpack_from(">I", frame, total - 4)
            if _crc(frame[:-4]) != message_crc:
                raise EventStreamError("an event-stream message fails its checksum")
            headers = parse_headers(frame[PRELUDE : PRELUDE + header_size])
            messages.append(EventMessage(headers, frame[PRELUDE + header_size : -4]))
        return messages

    @property
    def pending(self) -> int:
        """Bytes received that do not make a whole message yet."""
        return len(self._buffer)
