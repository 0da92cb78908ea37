"""Read and write PNG text chunks (pure stdlib), as character cards need.

A PNG is an 8-byte signature and a list of chunks (length, type, data, CRC). We verify
every CRC, refuse truncated files, cap chunk sizes, and keep every chunk we do not touch
byte for byte.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from pytavern.errors import FormatError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK_BYTES = 64 * 1024 * 1024
"""The largest single chunk we accept (cards with big embedded books stay far below)."""

_HINT = "Export the card again from its source, or re-download the file."


@dataclass(frozen=True, slots=True)
class Chunk:
    """One PNG chunk: a four-letter type and its data."""

    type: bytes
    data: bytes

    def encode(self) -> bytes:
        """Return the chunk as it is written in a file (length, type, data, CRC)."""
        crc = zlib.crc32(self.type + self.data) & 0xFFFFFFFF
        return struct.pack(">I", len(self.data)) + self.type + self.data + struct.pack(">I", crc)


def is_png(data: bytes) -> bool:
    """Return whether ``data`` starts with the PNG signature."""
    return data[:8] == PNG_SIGNATURE


def read_chunks(data: bytes, filename: str = "<png>") -> list[Chunk]:
    """Split a PNG file into chunks, checking the signature, every CRC and the IEND end."""
    if not is_png(data):
        raise FormatError(f"{filename}: not a PNG file (bad signature)", hint=_HINT)
    chunks: list[Chunk] = []
    pos = 8
    while pos < len(data):
        chunk, pos = _read_one(data, pos, filename)
        chunks.append(chunk)
        if chunk.type == b"IEND":
            return chunks
    raise FormatError(f"{filename}: truncated PNG (no IEND chunk)", hint=_HINT)


def _read_one(data: bytes, pos: int, filename: str) -> tuple[Chunk, int]:
    if pos + 8 > len(data):
        raise FormatError(f"{filename}: truncated PNG (chunk header cut at byte {pos})", hint=_HINT)
    (length,) = struct.unpack(">I", data[pos : pos + 4])
    ctype = data[pos + 4 : pos + 8]
    if length > MAX_CHUNK_BYTES:
        raise FormatError(
            f"{filename}: PNG chunk {_name(ctype)} is {length} bytes, over the "
            f"{MAX_CHUNK_BYTES} byte limit",
            hint=_HINT,
        )
    end = pos + 8 + length
    if end + 4 > len(data):
        raise FormatError(f"{filename}: truncated PNG (chunk {_name(ctype)} cut short)", hint=_HINT)
    body = data[pos + 8 : end]
    (crc,) = struct.unpack(">I", data[end : end + 4])
    if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
        raise FormatError(
            f"{filename}: corrupt PNG (CRC mismatch in chunk {_name(ctype)})", hint=_HINT
        )
    return Chunk(ctype, body), end + 4


def write_chunks(chunks: list[Chunk]) -> bytes:
    """Join chunks into a PNG file."""
    return PNG_SIGNATURE + b"".join(chunk.encode() for chunk in chunks)


def decode_text(chunk: Chunk) -> tuple[str, str]:
    """Return ``(keyword, text)`` of a tEXt chunk (both Latin-1, as the PNG spec says)."""
    keyword, _, text = chunk.data.partition(b"\x00")
    return keyword.decode("latin-1"), text.decode("latin-1")


def encode_text(keyword: str, text: str) -> Chunk:
    """Build a tEXt chunk; ``text`` must be Latin-1 (we only store base64 in it)."""
    return Chunk(b"tEXt", keyword.encode("latin-1") + b"\x00" + text.encode("latin-1"))


def text_chunks(chunks: list[Chunk]) -> dict[str, str]:
    """Return the tEXt chunks as ``{lowercased keyword: text}`` (first one wins)."""
    found: dict[str, str] = {}
    for chunk in chunks:
        if chunk.type == b"tEXt":
            keyword, text = decode_text(chunk)
            found.setdefault(keyword.lower(), text)
    return found


def replace_text_chunks(chunks: list[Chunk], new: list[tuple[str, str]]) -> list[Chunk]:
    """Drop tEXt chunks whose keyword is in ``new`` and insert the new ones before IEND."""
    names = {keyword.lower() for keyword, _ in new}
    kept = [c for c in chunks if not (c.type == b"tEXt" and decode_text(c)[0].lower() in names)]
    added = [encode_text(keyword, text) for keyword, text in new]
    return kept[:-1] + added + kept[-1:]


def solid_png(
    width: int = 64, height: int = 64, rgb: tuple[int, int, int] = (96, 96, 112)
) -> bytes:
    """Return a valid PNG filled with one colour (the default avatar for cards)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(rgb) * width
    pixels = zlib.compress(row * height, 9)
    return write_chunks([Chunk(b"IHDR", header), Chunk(b"IDAT", pixels), Chunk(b"IEND", b"")])


def _name(ctype: bytes) -> str:
    """A chunk type as people read it (``tEXt``), not as a Python bytes literal."""
    return ctype.decode("latin-1", errors="replace")
