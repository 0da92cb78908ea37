import base64
import json
import zlib

import pytest

from pytavern.errors import FormatError
from pytavern.formats import png
from pytavern.formats.cards import (
    Card,
    card_to_json,
    new_card,
    read_card,
    write_card_png,
)

V1 = {
    "name": "Seraphina",
    "description": "A guardian of the forest.",
    "personality": "kind",
    "scenario": "a glade",
    "first_mes": "Hello, {{user}}.",
    "mes_example": "<START>\n{{user}}: Hi\n{{char}}: Hello",
    "creatorcomment": "note",
    "talkativeness": "0.5",
    "fav": False,
    "my_unknown": {"nested": [1, 2.5, "x"]},
}

BOOK = {
    "name": "Forest",
    "entries": [
        {
            "id": 0,
            "keys": ["glade"],
            "secondary_keys": [],
            "comment": "",
            "content": "The glade is quiet.",
            "constant": False,
            "selective": True,
            "insertion_order": 100,
            "enabled": True,
            "position": "before_char",
            "extensions": {"depth": 4, "custom_ext": "kept"},
        }
    ],
}

V2 = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "name": "Seraphina",
    "data": {
        "name": "Seraphina",
        "description": "A guardian.",
        "personality": "",
        "scenario": "",
        "first_mes": "Hi",
        "mes_example": "",
        "creator_notes": "",
        "system_prompt": "Be {{char}}. {{original}}",
        "post_history_instructions": "",
        "alternate_greetings": ["Hey", "Yo"],
        "character_book": BOOK,
        "tags": ["fantasy"],
        "creator": "me",
        "character_version": "1",
        "extensions": {
            "world": "Forest",
            "depth_prompt": {"prompt": "x", "depth": 2, "role": "user"},
            "vendor_thing": {"a": 1},
        },
        "unknown_data_field": True,
    },
    "unknown_root": 7,
}

V3 = {
    "spec": "chara_card_v3",
    "spec_version": "3.0",
    "data": {
        **V2["data"],
        "nickname": "Sera",
        "group_only_greetings": ["Hello all"],
        "assets": [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
        "creation_date": 1700000000,
    },
}


def _roundtrip_json(raw):
    card = read_card(json.dumps(raw).encode(), "card.json")
    assert json.loads(card_to_json(card)) == raw
    return card


def test_v1_json_roundtrip_and_fields():
    card = _roundtrip_json(V1)
    assert card.spec == "v1"
    assert card.name == "Seraphina"
    assert card.creator_notes == "note"
    assert card.alternate_greetings == []


def test_v2_json_roundtrip_and_fields():
    card = _roundtrip_json(V2)
    assert card.spec == "v2"
    assert card.alternate_greetings == ["Hey", "Yo"]
    assert card.character_book == BOOK
    assert card.world == "Forest"
    assert card.depth_prompt == ("x", 2, "user")
    assert card.tags == ["fantasy"]
    assert card.system_prompt.startswith("Be ")


def test_v3_json_roundtrip():
    card = _roundtrip_json(V3)
    assert card.spec == "v3"
    assert card.group_only_greetings == ["Hello all"]


def test_png_write_read_back_same():
    for raw in (V2, V3):
        card = Card(raw)
        data = write_card_png(card)
        back = read_card(data, "x.png")
        assert back.data == raw["data"]
        assert back.spec == "v3"  # ccv3 wins, like SillyTavern
        chunks = png.text_chunks(png.read_chunks(data))
        v2 = json.loads(base64.b64decode(chunks["chara"]))
        assert v2["spec"] == "chara_card_v2" and v2["data"] == raw["data"]
        assert v2.get("unknown_root") == raw.get("unknown_root")


def test_png_rewrite_replaces_old_chunks_and_keeps_image():
    first = write_card_png(Card(V2))
    second = write_card_png(Card(V3).with_fields(name="Other"), first)
    chunks = png.read_chunks(second)
    kinds = [png.decode_text(c)[0] for c in chunks if c.type == b"tEXt"]
    assert kinds == ["chara", "ccv3"]
    assert chunks[-1].type == b"IEND"
    assert chunks[0].type == b"IHDR"
    assert read_card(second, "y.png").name == "Other"


def test_ccv3_wins_over_chara():
    img = png.solid_png(2, 2)
    chunks = png.read_chunks(img)
    b64 = lambda d: base64.b64encode(json.dumps(d).encode()).decode()  # noqa: E731
    new = [("chara", b64(V2)), ("ccv3", b64({**V3, "data": {**V3["data"], "name": "Three"}}))]
    data = png.write_chunks(png.replace_text_chunks(chunks, new))
    assert read_card(data, "z.png").name == "Three"


def test_v1_upgrade_to_v2():
    card = Card(dict(V1)).to_v2()
    assert card.spec == "v2"
    assert card.raw["name"] == "Seraphina" and card.data["creator_notes"] == "note"
    assert card.raw["my_unknown"] == V1["my_unknown"]


def test_new_card_defaults():
    card = new_card("Bob", description="d")
    assert card.raw["description"] == "d" and card.data["alternate_greetings"] == []


def test_default_avatar_is_valid_png():
    data = png.solid_png()
    chunks = png.read_chunks(data)
    assert [c.type for c in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert len(zlib.decompress(chunks[1].data)) == 64 * (1 + 64 * 3)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (png.solid_png(), "no character card"),
        (png.solid_png()[:-6], "truncated"),
        (png.solid_png()[:30], "truncated"),
        (b"{not json", "not valid JSON"),
        (b"[1,2]", "must be a JSON object"),
        (json.dumps({"description": "x"}).encode(), "no character name"),
        (json.dumps({"spec": "chara_card_v2", "data": {"name": ""}}).encode(), "no character name"),
        (json.dumps({"spec": "chara_card_v2"}).encode(), "no 'data' object"),
    ],
)
def test_broken_cards_raise_format_error(data, problem):
    with pytest.raises(FormatError) as info:
        read_card(data, "broken.png")
    assert "broken.png" in str(info.value) and problem in str(info.value)


def test_crc_mismatch_detected():
    data = bytearray(write_card_png(Card(V2)))
    data[40] ^= 0xFF
    with pytest.raises(FormatError, match=r"CRC mismatch|truncated|signature"):
        read_card(bytes(data), "bad.png")


def test_huge_chunk_refused():
    import struct

    bogus = png.PNG_SIGNATURE + struct.pack(">I", png.MAX_CHUNK_BYTES + 1) + b"tEXt"
    with pytest.raises(FormatError, match="limit"):
        png.read_chunks(bogus, "huge.png")
