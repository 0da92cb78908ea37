"""Property tests: any chat or card survives a write/read round trip unchanged."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pytavern.formats._json import _js_value, js_dumps
from pytavern.formats.cards import Card, card_to_json, read_card, write_card_png
from pytavern.formats.chats import ChatFile, chat_to_jsonl, new_header, new_record, parse_chat_jsonl

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(
    messages=st.lists(st.tuples(st.booleans(), text, st.lists(text, max_size=3)), max_size=5),
    extra=st.dictionaries(text, json_values, max_size=3),
)
def test_chat_roundtrip(messages, extra):
    records = [
        new_record("Ann" if u else "Sera", m, is_user=u, send_date=1, swipes=s or None, extra=extra)
        for u, m, s in messages
    ]
    chat = ChatFile(new_header("Ann", "Sera", "now", {"x": extra}), records)
    data = chat_to_jsonl(chat)
    back = parse_chat_jsonl(data, "c.jsonl")
    assert [m.raw for m in back.messages] == [m.raw for m in records]
    assert chat_to_jsonl(back) == data


@settings(max_examples=40, deadline=None)
@given(name=text.filter(lambda s: s.strip()), fields=st.dictionaries(text, json_values, max_size=4))
def test_card_roundtrip_json_and_png(name, fields):
    raw = {"spec": "chara_card_v3", "spec_version": "3.0", "data": {**fields, "name": name}}
    card = Card(raw)
    assert json.loads(card_to_json(read_card(card_to_json(card), "c.json"))) == raw
    assert read_card(write_card_png(card), "c.png").raw == raw


any_text = st.text(max_size=40)  # lone surrogates and control characters included
any_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner)
        | st.dictionaries(any_text | st.integers(), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(value=any_values)
def test_js_dumps_writes_what_the_json_module_writes_after_javascripts_mapping(value):
    """The orjson fast path never changes a byte: JavaScript's mapping (integral floats
    lose ``.0``, NaN is null), then ``json`` compact with non-ASCII kept, is the reference."""
    reference = json.dumps(_js_value(value), ensure_ascii=False, separators=(",", ":"))
    assert js_dumps(value) == reference
