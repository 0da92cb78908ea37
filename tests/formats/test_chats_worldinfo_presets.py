import json

import pytest

from pytavern.errors import FormatError, NotFoundError
from pytavern.formats.chats import ChatFile, chat_to_jsonl, new_header, new_record, parse_chat_jsonl
from pytavern.formats.presets import (
    ContextTemplate,
    InstructTemplate,
    bundled_names,
    load_bundled,
    read_sampler_preset,
    read_template,
    template_to_json,
)
from pytavern.formats.worldinfo import (
    character_book_from_lorebook,
    lorebook_from_character_book,
    lorebook_to_json,
    read_lorebook,
)

CHAT = "\n".join(
    [
        '{"user_name":"Ann","character_name":"Sera","create_date":"2024-9-28 @12h 00m 00s 000ms",'
        '"chat_metadata":{"note_prompt":"","timedWorldInfo":{"sticky":{},"cooldown":{}},"x":1.5}}',
        '{"name":"Sera","is_user":false,"is_system":false,"send_date":"September 28, 2024 12:00pm",'
        '"mes":"Hello ünïcode \\"q\\"\\n","swipe_id":1,"swipes":["a","Hello ünïcode \\"q\\"\\n"],'
        '"swipe_info":[{"send_date":"x","extra":{}},{"send_date":"y","extra":{"model":"m"}}],'
        '"extra":{"api":"openai","token_count":12}}',
        '{"name":"Ann","is_user":true,"is_system":false,"send_date":1727524800000,"mes":"Hi 😀",'
        '"extra":{},"force_avatar":"User Avatars/a.png"}',
    ]
)


def test_chat_roundtrip_is_byte_identical():
    chat = parse_chat_jsonl(CHAT.encode(), "c.jsonl")
    assert chat.header is not None and chat.header.user_name == "Ann"
    assert chat.header.chat_metadata["x"] == 1.5
    first = chat.messages[0]
    assert first.swipes[1] == first.mes and first.swipe_id == 1
    assert first.swipe_info[1]["extra"] == {"model": "m"}
    assert chat.messages[1].is_user and chat.messages[1].send_date == 1727524800000
    assert chat_to_jsonl(chat) == CHAT.encode()


def test_chat_writer_matches_js_number_format():
    chat = ChatFile(
        new_header("a", "b", "d", {"n": 2.0}), [new_record("a", "x", is_user=True, send_date=1)]
    )
    out = chat_to_jsonl(chat).decode()
    assert '"n":2}' in out
    assert out.splitlines()[1] == (
        '{"name":"a","is_user":true,"is_system":false,"send_date":1,"mes":"x","extra":{}}'
    )


def test_headerless_chat():
    chat = parse_chat_jsonl('{"name":"a","is_user":true,"mes":"x"}\n', "h.jsonl")
    assert chat.header is None and chat.messages[0].mes == "x"


@pytest.mark.parametrize(
    ("data", "problem"),
    [(b"", "empty"), (b'{"user_name":"a"}\n{oops', "line 2 is not valid JSON"), (b"[1]", "line 1")],
)
def test_broken_chat(data, problem):
    with pytest.raises(FormatError) as info:
        parse_chat_jsonl(data, "bad.jsonl")
    assert "bad.jsonl" in str(info.value) and problem in str(info.value)


WORLD = {
    "entries": {
        "0": {
            "uid": 0,
            "key": ["dragon", "/wyrm/i"],
            "keysecondary": ["fire"],
            "comment": "Dragons",
            "content": "Dragons breathe fire.",
            "constant": False,
            "selective": True,
            "selectiveLogic": 3,
            "order": 50,
            "position": 4,
            "depth": 2,
            "role": 1,
            "probability": 80,
            "useProbability": True,
            "group": "beasts",
            "groupWeight": 30,
            "sticky": 2,
            "cooldown": None,
            "delay": 0,
            "caseSensitive": True,
            "displayIndex": 0,
            "characterFilter": {"names": [], "tags": [], "isExclude": False},
            "myExt": "kept",
        },
        "5": {"uid": 5, "key": ["x"], "content": "minimal"},
    },
    "originalData": {"foo": "bar"},
}


def test_world_info_roundtrip_and_defaults():
    book = read_lorebook(json.dumps(WORLD).encode(), "worlds/Beasts.json")
    assert book.name == "Beasts"
    assert json.loads(lorebook_to_json(book)) == WORLD
    dragon, minimal = book.entries
    assert dragon.keys == ("dragon", "/wyrm/i") and dragon.selective_logic == 3
    assert dragon.position == 4 and dragon.role == 1 and dragon.sticky == 2 and dragon.delay is None
    assert dragon.case_sensitive is True and dragon.key_id == "Beasts.0"
    assert minimal.order == 100 and minimal.depth == 4 and minimal.selective
    assert minimal.probability == 100 and minimal.group_weight == 100 and minimal.scan_depth is None


def test_character_book_conversion_both_ways():
    book = read_lorebook(json.dumps(WORLD).encode(), "Beasts.json")
    cb = character_book_from_lorebook(book)
    entry = cb["entries"][0]
    assert entry["keys"] == ["dragon", "/wyrm/i"] and entry["insertion_order"] == 50
    assert entry["position"] == "after_char" and entry["extensions"]["position"] == 4
    assert entry["extensions"]["group_weight"] == 30 and entry["extensions"]["sticky"] == 2
    back = lorebook_from_character_book(cb, "Beasts")
    d = back.entries[0]
    assert (d.keys, d.secondary_keys, d.order, d.position, d.depth, d.role) == (
        ("dragon", "/wyrm/i"),
        ("fire",),
        50,
        4,
        2,
        1,
    )
    assert (d.probability, d.group, d.group_weight, d.sticky, d.case_sensitive) == (
        80,
        "beasts",
        30,
        2,
        True,
    )
    assert back.raw["originalData"] is cb


def test_card_book_without_extensions_uses_position_string():
    cb = {
        "entries": [
            {
                "keys": ["a"],
                "content": "c",
                "enabled": False,
                "position": "before_char",
                "insertion_order": 3,
            }
        ]
    }
    e = lorebook_from_character_book(cb, "b").entries[0]
    assert e.position == 0 and e.disable and e.order == 3 and e.uid == 0


def test_broken_lorebook():
    with pytest.raises(FormatError, match=r"w\.json: lorebook has no 'entries'"):
        read_lorebook(b'{"x": 1}', "w.json")


def test_bundled_templates_load():
    names = bundled_names("instruct")
    for required in (
        "Alpaca",
        "ChatML",
        "Llama 3 Instruct",
        "Llama 2 Chat",
        "Mistral V1",
        "Mistral V2 & V3",
        "Gemma 2",
        "Command R",
        "Phi",
        "Metharme",
        "Pygmalion",
        "Vicuna 1.1",
    ):
        assert required in names
        assert isinstance(load_bundled("instruct", required), InstructTemplate)
        assert isinstance(load_bundled("context", required), ContextTemplate)
    assert "Default" in bundled_names("context")
    with pytest.raises(NotFoundError):
        load_bundled("instruct", "Nope")


def test_template_roundtrip_keeps_unknown_fields():
    raw = {"name": "X", "input_sequence": "A", "output_sequence": "B", "wrap": False, "zzz": [1]}
    t = read_template("instruct", json.dumps(raw).encode(), "x.json")
    assert isinstance(t, InstructTemplate) and t.input_sequence == "A" and not t.wrap
    assert json.loads(template_to_json(t)) == raw


def test_old_instruct_fields_migrate():
    t = InstructTemplate.from_dict(
        {"input_sequence": "a", "separator_sequence": "S", "names": True}
    )
    assert t.output_suffix == "S" and t.names_behavior == "always"


def test_sampler_preset():
    p = read_sampler_preset(
        json.dumps(
            {
                "temp": 0.7,
                "top_k": 40,
                "rep_pen": 1.1,
                "genamt": 300,
                "dry_sequence_breakers": '["\\n", ":"]',
                "odd": 1,
            }
        ).encode(),
        "presets/Simple.json",
    )
    s = p.to_sampler_settings()
    assert (s.temperature, s.top_k, s.repetition_penalty, s.max_tokens) == (0.7, 40, 1.1, 300)
    assert s.dry_sequence_breakers == ["\n", ":"]
    assert p.name == "Simple"
