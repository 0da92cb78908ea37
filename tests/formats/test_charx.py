"""CharX cards (``.charx``): a zip of ``card.json`` and assets, read like SillyTavern does."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from pytavern.errors import FormatError
from pytavern.formats import charx, png
from pytavern.formats.cards import read_card, read_card_file


def v3_card(name: str = "Lyra", assets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A V3 card naming ``assets``."""
    data: dict[str, Any] = {"name": name, "description": "A mapmaker.", "first_mes": "Hi."}
    if assets is not None:
        data["assets"] = assets
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": data}


def build_charx(card: dict[str, Any] | None, files: dict[str, bytes] | None = None) -> bytes:
    """A .charx archive with ``card`` as card.json (none when ``None``) and ``files``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if card is not None:
            archive.writestr("card.json", json.dumps(card))
        for path, data in (files or {}).items():
            archive.writestr(path, data)
    return out.getvalue()


def icon(name: str, path: str, ext: str = "png") -> dict[str, str]:
    return {"type": "icon", "name": name, "uri": f"embeded://{path}", "ext": ext}


RED = png.solid_png(4, 4, (255, 0, 0))
BLUE = png.solid_png(4, 4, (0, 0, 255))


def test_card_and_main_icon() -> None:
    assets = [
        icon("side", "assets/icon/images/side.png"),
        {"type": "background", "name": "bg", "uri": "embeded://assets/bg.png", "ext": "png"},
        icon("main", "assets/icon/images/main.png"),
    ]
    data = build_charx(
        v3_card(assets=assets),
        {
            "assets/icon/images/side.png": BLUE,
            "assets/icon/images/main.png": RED,
            "assets/bg.png": b"x",
        },
    )
    assert charx.is_charx(data)
    card, avatar = read_card_file(data, "lyra.charx")
    assert card.name == "Lyra" and card.description == "A mapmaker."
    assert card.raw["data"]["assets"] == assets
    assert avatar == RED
    assert read_card(data, "lyra.charx").name == "Lyra"


def test_first_icon_when_none_is_main_and_embedded_spelling() -> None:
    assets = [
        {"type": "icon", "name": "main", "uri": "ccdefault:", "ext": "png"},
        {"type": "icon", "name": "alt", "uri": "embedded://a/alt.png", "ext": "png"},
        icon("other", "a/other.png"),
    ]
    data = build_charx(v3_card(assets=assets), {"a/alt.png": BLUE, "a/other.png": RED})
    assert read_card_file(data, "x.charx")[1] == BLUE


def test_no_icon_or_missing_or_non_png_icon_gives_no_avatar() -> None:
    assert read_card_file(build_charx(v3_card()), "x.charx")[1] is None
    missing = build_charx(v3_card(assets=[icon("main", "nowhere.png")]))
    assert read_card_file(missing, "x.charx")[1] is None
    webp = build_charx(
        v3_card(assets=[icon("main", "m.webp", "webp")]), {"m.webp": b"RIFFxxxxWEBP"}
    )
    card, avatar = read_card_file(webp, "x.charx")
    assert card.name == "Lyra" and avatar is None
    assert charx.read_charx(webp, "x.charx").avatar == b"RIFFxxxxWEBP"


def test_broken_archives_are_refused_clearly() -> None:
    for files in ({"readme.txt": b"hi"}, {}):
        with pytest.raises(FormatError, match=r"x\.charx: CharX archive has no card\.json"):
            read_card(build_charx(None, files), "x.charx")
    truncated = build_charx(v3_card())[:40]
    with pytest.raises(FormatError, match=r"x\.charx: not a readable CharX \(zip\) archive"):
        read_card(truncated, "x.charx")
    with pytest.raises(FormatError, match=r"card\.json"):
        read_card(build_charx(None, {"card.json": b"[1, 2]"}), "x.charx")
    with pytest.raises(FormatError, match="no character name"):
        read_card(build_charx({"spec": "chara_card_v3", "data": {"name": " "}}), "x.charx")


def test_corrupt_entry_is_refused() -> None:
    data = bytearray(build_charx(v3_card(), {"pad.bin": b"a" * 5000}))
    start = data.index(b"card.json") + len("card.json")
    data[start + 5] ^= 0xFF
    with pytest.raises(FormatError, match="not a readable CharX"):
        read_card(bytes(data), "x.charx")


def test_zip_bomb_is_refused_by_declared_size() -> None:
    bomb = build_charx(v3_card(), {"zeros.bin": bytes(3_000_000)})
    assert len(bomb) < 10_000
    with pytest.raises(FormatError, match="unpacks to more than 1000000 bytes") as caught:
        read_card_file(bomb, "bomb.charx", max_bytes=1_000_000)
    assert "PYTAVERN_MAX_UPLOAD_BYTES" in (caught.value.hint or "")
    assert read_card_file(bomb, "bomb.charx", max_bytes=4_000_000)[0].name == "Lyra"


def test_lying_sizes_are_caught_while_reading() -> None:
    """An entry holding more than its headers declare is refused, not read past its size."""
    big = json.dumps(v3_card()).encode() + b" " * 50_000
    data = bytearray(build_charx(None, {"card.json": big}))
    # Patch the declared size (local header and central directory) down to 10 bytes.
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(sig) + offset
        data[at : at + 4] = (10).to_bytes(4, "little")
    with pytest.raises(FormatError, match="not a readable CharX"):
        read_card_file(bytes(data), "liar.charx", max_bytes=20_000)
