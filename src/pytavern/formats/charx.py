"""CharX character cards (``.charx``): a zip holding ``card.json`` (a V3 card) and assets.

Read the way SillyTavern's ``src/charx.js`` reads them: the card from ``card.json``, the
avatar from the asset of type ``icon`` named ``main`` (else the first ``icon``) whose
``uri`` points into the archive (``embeded://path``, the spec's spelling, or
``embedded://path``). Archives are checked before anything is decompressed: at most
``MAX_ENTRIES`` entries and ``max_bytes`` uncompressed bytes in all as declared (zip
bombs); the bytes actually read count against the same budget (``zipfile`` refuses an entry
holding more than its declared size: a CRC error).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from pytavern.errors import FormatError
from pytavern.formats._json import load_json_object

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
"""How a zip archive starts: its first entry, or the end record of an empty archive."""
MAX_ENTRIES = 10_000
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""The default cap on an archive's uncompressed size (the server's upload limit)."""
_HINT = "Export the card again from the app it came from, as PNG, JSON or CharX."
_PREFIXES = ("embeded://", "embedded://")
_BROKEN = (
    zipfile.BadZipFile,  # also CRC errors and entries larger than declared
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,  # lzma/bz2 data errors
    RuntimeError,  # encrypted entries, unsupported compression
    ValueError,  # bad offsets ("negative seek value"), undecodable entry names
    IndexError,
)
"""What ``zipfile`` raises for a damaged archive (found by fuzzing it)."""


@dataclass(frozen=True, slots=True)
class CharX:
    """What a CharX archive holds for pytavern: the card dictionary and the avatar bytes."""

    card: dict[str, Any]
    avatar: bytes | None
    avatar_ext: str


def is_charx(data: bytes) -> bool:
    """Whether ``data`` starts like a zip archive (a CharX card)."""
    return data.startswith(ZIP_MAGICS)


def read_charx(data: bytes, filename: str, max_bytes: int = DEFAULT_MAX_BYTES) -> CharX:
    """Read a CharX archive; ``FormatError`` when it is broken, too big or has no card."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = _checked_entries(archive, filename, max_bytes)
            budget = [max_bytes]
            card_info = infos.get("card.json")
            if card_info is None:
                raise FormatError(f"{filename}: CharX archive has no card.json", hint=_HINT)
            raw = _read(archive, card_info, budget, filename)
            card = load_json_object(raw, filename, "card.json")
            path, ext = _avatar_path(card)
            info = infos.get(path) if path else None
            avatar = _read(archive, info, budget, filename) if info else None
    except _BROKEN as e:
        raise FormatError(f"{filename}: not a readable CharX (zip) archive: {e}", hint=_HINT) from e
    return CharX(card=card, avatar=avatar, avatar_ext=ext)


def _checked_entries(
    archive: zipfile.ZipFile, filename: str, max_bytes: int
) -> dict[str, zipfile.ZipInfo]:
    """The archive's entries by name, refused when too many or too big (declared sizes)."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise FormatError(
            f"{filename}: CharX archive has {len(infos)} entries (at most {MAX_ENTRIES})",
            hint=_HINT,
        )
    declared = sum(info.file_size for info in infos)
    if declared > max_bytes:
        raise _too_big(filename, max_bytes)
    return {info.filename.lstrip("/"): info for info in infos if not info.is_dir()}


def _read(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int], filename: str
) -> bytes:
    """An entry's bytes, counted against what is left of the archive's budget."""
    with archive.open(info) as stream:
        data = stream.read(budget[0] + 1)
    if len(data) > budget[0]:
        raise _too_big(filename, budget[0])
    budget[0] -= len(data)
    return data


def _too_big(filename: str, max_bytes: int) -> FormatError:
    return FormatError(
        f"{filename}: CharX archive unpacks to more than {max_bytes} bytes",
        hint="Remove large assets from the card, or raise PYTAVERN_MAX_UPLOAD_BYTES.",
    )


def _avatar_path(card: dict[str, Any]) -> tuple[str | None, str]:
    """The archive path and extension of the avatar: the ``icon`` named ``main``, else the
    first ``icon`` (SillyTavern's choice); ``None`` when no icon is in the archive."""
    data = card.get("data")
    assets = data.get("assets") if isinstance(data, dict) else None
    icons = [
        a
        for a in (assets if isinstance(assets, list) else [])
        if isinstance(a, dict) and a.get("type") == "icon" and _embedded(a.get("uri"))
    ]
    chosen = next((a for a in icons if a.get("name") == "main"), icons[0] if icons else None)
    if chosen is None:
        return None, ""
    return _embedded(chosen.get("uri")), str(chosen.get("ext") or "").lower()


def _embedded(uri: Any) -> str | None:
    """The archive path an asset ``uri`` points at, or ``None`` (remote or default)."""
    if not isinstance(uri, str):
        return None
    for prefix in _PREFIXES:
        if uri.lower().startswith(prefix):
            return uri[len(prefix) :].lstrip("/") or None
    return None
