"""Character cards in and out of PNG files (the ``chara`` / ``ccv3`` tEXt chunks).

A minimal reader and writer kept in ``server/`` until ``pytavern.formats`` lands; it reads
V1/V2 (``chara``) and V3 (``ccv3``) cards and writes both chunks.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import zlib
from typing import Any

from pytavern.errors import FormatError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CARD_KEYWORDS = (b"ccv3", b"chara")


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    if not png.startswith(PNG_SIGNATURE):
        raise FormatError("the file is not a PNG image", hint="Upload a PNG or JSON card")
    chunks: list[tuple[bytes, bytes]] = []
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        if len(data) != length:
            raise FormatError("the PNG file is cut short", hint="Export the card again")
        chunks.append((kind, data))
        offset += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = binascii.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def read_png_card(png: bytes) -> dict[str, Any]:
    """The card stored in a PNG's text chunks (V3 preferred over V2/V1)."""
    found: dict[bytes, bytes] = {}
    for kind, data in _chunks(png):
        if kind == b"tEXt" and b"\0" in data:
            keyword, _, text = data.partition(b"\0")
            found[keyword.lower()] = text
    for keyword in CARD_KEYWORDS:
        if keyword in found:
            return _decode(found[keyword], keyword.decode())
    raise FormatError(
        "the PNG has no character card in it (no 'chara' or 'ccv3' text chunk)",
        hint="Pick a character card PNG exported from SillyTavern or a card site",
    )


def _decode(text: bytes, keyword: str) -> dict[str, Any]:
    try:
        card = json.loads(base64.b64decode(text, validate=False).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(
            f"the PNG's '{keyword}' chunk is not a readable card", hint="Export the card again"
        ) from exc
    return check_card(card)


def check_card(card: Any) -> dict[str, Any]:
    """``card`` if it is a card dict with a name; a ``FormatError`` otherwise."""
    data = card.get("data") if isinstance(card, dict) else None
    name = (
        (data if isinstance(data, dict) else card or {}).get("name")
        if isinstance(card, dict)
        else None
    )
    if not isinstance(name, str) or not name.strip():
        raise FormatError(
            "this is not a character card (no character name)",
            hint="Upload a SillyTavern character card (PNG or JSON)",
        )
    assert isinstance(card, dict)
    return card


def write_png_card(card: dict[str, Any], png: bytes | None) -> bytes:
    """``png`` (or a plain image) carrying ``card`` in ``chara`` and ``ccv3`` chunks."""
    chunks = [
        (kind, data)
        for kind, data in _chunks(png or placeholder_png())
        if not (kind == b"tEXt" and data.split(b"\0", 1)[0].lower() in CARD_KEYWORDS)
    ]
    payload = base64.b64encode(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    v3 = dict(card, spec="chara_card_v3", spec_version="3.0") if "data" in card else card
    v3_payload = base64.b64encode(json.dumps(v3, ensure_ascii=False).encode("utf-8"))
    text = [_chunk(b"tEXt", b"chara\0" + payload), _chunk(b"tEXt", b"ccv3\0" + v3_payload)]
    body = [_chunk(kind, data) for kind, data in chunks if kind != b"IEND"]
    return PNG_SIGNATURE + b"".join(body) + b"".join(text) + _chunk(b"IEND", b"")


def placeholder_png(size: int = 64, rgb: tuple[int, int, int] = (58, 63, 88)) -> bytes:
    """A plain square PNG, for cards exported without an avatar."""
    row = b"\0" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    pixels = zlib.compress(row * size, 9)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def parse_upload(body: bytes) -> tuple[dict[str, Any], bytes | None]:
    """A card (and its avatar when it came as a PNG) from an uploaded file's bytes."""
    if body.startswith(PNG_SIGNATURE):
        return read_png_card(body), body
    try:
        card = json.loads(body.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(
            "the file is neither a PNG card nor JSON", hint="Upload a PNG or JSON card"
        ) from exc
    return check_card(card), None
