"""Fuzzing the SillyTavern parsers: every input is either parsed or refused with our
``FormatError`` — never another exception, never a hang.

Each parser gets at least 20,000 generated inputs (2,000 hypothesis examples of 10): raw
bytes, JSON of random shape, JSON shaped like the real format with random values, and (for
cards) PNG files with random ``chara``/``ccv3`` chunks and CharX zips, whole or damaged.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytavern.errors import FormatError
from pytavern.formats.cards import read_card, read_card_file
from pytavern.formats.chats import parse_chat_jsonl
from pytavern.formats.png import (
    encode_text,
    read_chunks,
    replace_text_chunks,
    solid_png,
    write_chunks,
)
from pytavern.formats.presets import read_sampler_preset, read_template
from pytavern.formats.worldinfo import read_lorebook

INPUTS = int(os.environ.get("PYTAVERN_FUZZ_INPUTS", "20000"))
"""Inputs per parser; each hypothesis example carries a batch of ``BATCH`` of them."""
BATCH = 10
EXAMPLES = max(INPUTS // BATCH, 1)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

CARD_KEYS = [
    "spec",
    "spec_version",
    "data",
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "alternate_greetings",
    "character_book",
    "extensions",
    "entries",
    "keys",
    "content",
    "tags",
    "system_prompt",
    "creator_notes",
]
CHAT_KEYS = [
    "user_name",
    "character_name",
    "create_date",
    "chat_metadata",
    "name",
    "is_user",
    "is_system",
    "send_date",
    "mes",
    "swipes",
    "swipe_id",
    "swipe_info",
    "extra",
]
LORE_KEYS = [
    "entries",
    "uid",
    "key",
    "keysecondary",
    "content",
    "comment",
    "constant",
    "selective",
    "selectiveLogic",
    "order",
    "position",
    "depth",
    "probability",
    "group",
    "sticky",
    "cooldown",
    "delay",
    "scanDepth",
    "caseSensitive",
    "role",
    "disable",
]
PRESET_KEYS = [
    "name",
    "input_sequence",
    "output_sequence",
    "system_sequence",
    "stop_sequence",
    "wrap",
    "macro",
    "names_behavior",
    "story_string",
    "content",
    "temp",
    "top_p",
    "top_k",
    "rep_pen",
    "sampler_order",
    "activation_regex",
    "chat_start",
]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)
)


def shaped(keys: list[str]) -> st.SearchStrategy[Any]:
    """JSON whose objects use the format's own field names, with values of any shape."""
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.sampled_from(keys) | st.text(max_size=3), inner, max_size=5),
        ),
        max_leaves=10,
    )


def json_bytes(keys: list[str]) -> st.SearchStrategy[bytes]:
    return shaped(keys).map(lambda value: json.dumps(value).encode())


def inputs(keys: list[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=300),
        json_bytes(keys),
        json_bytes(keys).map(lambda data: data[: len(data) // 2]),
    )


PRESET_KINDS = ["instruct", "context", "sysprompt", "sampler"]


def batch(inputs_: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """``BATCH`` inputs per hypothesis example (amortises the engine's per-example cost)."""
    return st.lists(inputs_, min_size=BATCH, max_size=BATCH)


def check(parse: Callable[[bytes], object], data: bytes) -> None:
    with contextlib.suppress(FormatError):
        parse(data)


BASE_PNG = solid_png(2, 2, (10, 20, 30))


def png_with(chunks: list[tuple[str, str]]) -> bytes:
    return write_chunks(replace_text_chunks(read_chunks(BASE_PNG), chunks))


card_payloads = st.one_of(
    json_bytes(CARD_KEYS).map(lambda raw: base64.b64encode(raw).decode()),
    st.text(st.characters(max_codepoint=255), max_size=20),
)
png_cards = st.lists(
    st.tuples(st.sampled_from(["chara", "ccv3", "other"]), card_payloads), max_size=2
).map(png_with)
png_mutations = st.tuples(png_cards, st.integers(0, 200), st.binary(min_size=1, max_size=4)).map(
    lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + len(t[2]) :]
)


def charx_with(card: bytes | None, icon: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        if card is not None:
            archive.writestr("card.json", card)
        archive.writestr("a/main.png", icon)
    return out.getvalue()


ICON_CARD = json.dumps(
    {
        "spec": "chara_card_v3",
        "data": {
            "name": "Z",
            "assets": [{"type": "icon", "name": "main", "uri": "embeded://a/main.png"}],
        },
    }
).encode()
charx_cards = st.builds(
    charx_with,
    st.one_of(st.none(), st.just(ICON_CARD), json_bytes(CARD_KEYS)),
    st.one_of(st.just(BASE_PNG), st.binary(max_size=40)),
)
charx_mutations = st.tuples(
    charx_cards, st.integers(0, 400), st.binary(min_size=1, max_size=4)
).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + len(t[2]) :])


@pytest.mark.fuzz
@pytest.mark.timeout(1200)
@FUZZ
@given(batch(st.one_of(inputs(CARD_KEYS), png_cards, png_mutations, charx_cards, charx_mutations)))
def test_cards(batch_: list[bytes]) -> None:
    for data in batch_:
        check(lambda d: read_card_file(d, "fuzz.png", max_bytes=100_000), data)


@pytest.mark.fuzz
@pytest.mark.timeout(1200)
@FUZZ
@given(
    batch(
        st.one_of(
            inputs(CHAT_KEYS),
            st.lists(json_bytes(CHAT_KEYS), max_size=5).map(lambda lines: b"\n".join(lines)),
        )
    )
)
def test_chats(batch_: list[bytes]) -> None:
    for data in batch_:
        check(lambda d: parse_chat_jsonl(d, "fuzz.jsonl"), data)


@pytest.mark.fuzz
@pytest.mark.timeout(1200)
@FUZZ
@given(
    batch(
        st.one_of(
            inputs(LORE_KEYS),
            st.dictionaries(st.text(max_size=3), shaped(LORE_KEYS), max_size=4).map(
                lambda entries: json.dumps({"entries": entries}).encode()
            ),
        )
    )
)
def test_lorebooks(batch_: list[bytes]) -> None:
    for data in batch_:
        check(lambda d: read_lorebook(d, "fuzz.json"), data)


@pytest.mark.fuzz
@pytest.mark.timeout(1200)
@FUZZ
@given(batch(st.tuples(st.sampled_from(PRESET_KINDS), inputs(PRESET_KEYS))))
def test_presets(batch_: list[tuple[str, bytes]]) -> None:
    for kind, data in batch_:
        if kind == "sampler":
            check(lambda d: read_sampler_preset(d, "fuzz.json"), data)
        else:
            check(lambda d, k=kind: read_template(k, d, "fuzz.json"), data)  # type: ignore[misc]


def test_png_chunk_encoding_is_usable() -> None:
    """The PNG helper used above makes cards the reader accepts (so the fuzz is meaningful)."""
    card = {"spec": "chara_card_v2", "data": {"name": "Fuzz"}}
    data = png_with([("chara", base64.b64encode(json.dumps(card).encode()).decode())])
    assert read_card(data, "ok.png").name == "Fuzz"
    assert encode_text("chara", "x").type == b"tEXt"
