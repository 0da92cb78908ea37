import random

import pytest

from pytavern.formats.worldinfo import lorebook_from_dict
from pytavern.prompt import worldinfo
from pytavern.prompt.tokens import CharRatioTokenizer
from pytavern.prompt.wi_timed import TimedEffect, TimedState
from pytavern.prompt.worldinfo import WorldInfoSettings, WorldInfoSources, check_world_info

TOK = CharRatioTokenizer(1.0)  # 1 token per character: budgets are easy to reason about


def book(*entries, name="B"):
    return lorebook_from_dict(
        {"entries": {str(i): {"uid": i, **e} for i, e in enumerate(entries)}}, name
    )


def scan(messages, *books, settings=None, seed=0, state=None, length=None, ctx=10_000, **kw):
    return check_world_info(
        messages,
        WorldInfoSources(global_books=books),
        max_context=ctx,
        tokenizer=TOK,
        rng=random.Random(seed),
        timed_state=state,
        chat_length=length,
        settings=settings or WorldInfoSettings(),
        **kw,
    )


def fired(result):
    return sorted(a.content for a in result.activated)


def test_plain_key_case_insensitive_by_default():
    b = book({"key": ["Dragon"], "content": "D"})
    assert fired(scan(["a DRAGON appears"], b)) == ["D"]
    assert fired(scan(["nothing here"], b)) == []


def test_case_sensitive_entry_and_global():
    b = book({"key": ["Dragon"], "content": "D", "caseSensitive": True})
    assert fired(scan(["a dragon"], b)) == []
    assert fired(scan(["a Dragon"], b)) == ["D"]
    g = book({"key": ["Dragon"], "content": "D"})
    assert fired(scan(["a dragon"], g, settings=WorldInfoSettings(case_sensitive=True))) == []


def test_whole_words():
    b = book({"key": ["cat"], "content": "C", "matchWholeWords": True})
    assert fired(scan(["concatenate"], b)) == []
    assert fired(scan(["the cat, sat"], b)) == ["C"]
    assert fired(scan(["cat"], b)) == ["C"]
    multi = book({"key": ["black cat"], "content": "M", "matchWholeWords": True})
    assert fired(scan(["a black cat"], multi)) == ["M"]
    assert fired(scan(["concatenate"], book({"key": ["cat"], "content": "C"}))) == []  # default
    loose = WorldInfoSettings(match_whole_words=False)
    assert fired(scan(["concatenate"], book({"key": ["cat"], "content": "C"}), settings=loose)) == [
        "C"
    ]


def test_regex_keys():
    b = book({"key": ["/dra(g|k)on/i"], "content": "R"})
    assert fired(scan(["DRAKON"], b)) == ["R"]
    b2 = book({"key": ["/^hello$/m"], "content": "H"})
    assert fired(scan(["x\nhello\ny"], b2)) == ["H"]
    assert fired(scan(["xhello"], b2)) == []


def test_macros_in_keys():
    b = book({"key": ["{{char}}"], "content": "N"})
    assert fired(scan(["I saw Sera"], b, macros=lambda t: t.replace("{{char}}", "Sera"))) == ["N"]


def _logic(logic, text):
    b = book({"key": ["a1"], "keysecondary": ["s1", "s2"], "selectiveLogic": logic, "content": "X"})
    return fired(scan([text], b)) == ["X"]


def test_secondary_logic():
    # 0 AND ANY
    assert _logic(0, "a1 s1") and not _logic(0, "a1")
    # 3 AND ALL
    assert _logic(3, "a1 s1 s2") and not _logic(3, "a1 s1")
    # 2 NOT ANY
    assert _logic(2, "a1") and not _logic(2, "a1 s2")
    # 1 NOT ALL
    assert _logic(1, "a1 s1") and not _logic(1, "a1 s1 s2")
    # primary still required
    assert not _logic(2, "s1")


def test_constant_and_disabled_and_reasons():
    b = book({"content": "K", "constant": True}, {"key": ["x"], "content": "D", "disable": True})
    r = scan(["x"], b)
    assert fired(r) == ["K"] and r.activated[0].reason == "constant"
    r2 = scan(["key x"], book({"key": ["x"], "content": "X"}))
    assert r2.activated[0].reason == "primary key 'x'"


def test_scan_depth_global_and_per_entry():
    b = book({"key": ["old"], "content": "O"})
    msgs = ["newest", "middle", "old"]
    assert fired(scan(msgs, b)) == []
    assert fired(scan(msgs, b, settings=WorldInfoSettings(scan_depth=3))) == ["O"]
    deep = book({"key": ["old"], "content": "O", "scanDepth": 3})
    assert fired(scan(msgs, deep)) == ["O"]


def test_positions_and_order():
    b = book(
        {"content": "before-lo", "constant": True, "position": 0, "order": 1},
        {"content": "before-hi", "constant": True, "position": 0, "order": 9},
        {"content": "after", "constant": True, "position": 1},
        {"content": "an-top", "constant": True, "position": 2},
        {"content": "an-bottom", "constant": True, "position": 3},
        {"content": "depth", "constant": True, "position": 4, "depth": 2, "role": 1},
        {"content": "em-top", "constant": True, "position": 5},
        {"content": "em-bottom", "constant": True, "position": 6},
    )
    r = scan(["hi"], b)
    assert r.before == "before-lo\nbefore-hi"  # higher order sits closer to the chat
    assert r.after == "after"
    assert r.an_top == ("an-top",) and r.an_bottom == ("an-bottom",)
    assert r.examples_top == ("em-top",) and r.examples_bottom == ("em-bottom",)
    assert [(d.depth, d.role, d.content) for d in r.depth] == [(2, "user", "depth")]


def test_recursion_and_its_flags():
    b = book(
        {"key": ["sword"], "content": "The sword was forged by dwarves."},
        {"key": ["dwarves"], "content": "Dwarves live under mountains."},
        {"key": ["mountains"], "content": "M", "excludeRecursion": True},
    )
    assert fired(scan(["a sword"], b)) == [
        "Dwarves live under mountains.",
        "The sword was forged by dwarves.",
    ]
    no_rec = WorldInfoSettings(recursive=False)
    assert fired(scan(["a sword"], b, settings=no_rec)) == ["The sword was forged by dwarves."]
    prevent = book(
        {"key": ["sword"], "content": "about dwarves", "preventRecursion": True},
        {"key": ["dwarves"], "content": "D"},
    )
    assert fired(scan(["a sword"], prevent)) == ["about dwarves"]
    delayed = book(
        {"key": ["sword"], "content": "about dwarves"},
        {"key": ["dwarves"], "content": "D", "delayUntilRecursion": True},
    )
    assert fired(scan(["dwarves"], delayed)) == []
    assert fired(scan(["a sword"], delayed)) == ["D", "about dwarves"]


def test_probability_is_seeded():
    b = book({"key": ["x"], "content": "P", "probability": 50, "useProbability": True})
    results = [bool(fired(scan(["x"], b, seed=s))) for s in range(40)]
    assert 5 < sum(results) < 35
    assert results == [bool(fired(scan(["x"], b, seed=s))) for s in range(40)]
    off = book({"key": ["x"], "content": "P", "probability": 0, "useProbability": False})
    assert fired(scan(["x"], off)) == ["P"]


def test_a_seed_rolls_what_its_generator_does():
    entries = [
        {"key": ["x"], "content": f"P{i}", "probability": 50, "useProbability": True}
        for i in range(6)
    ]
    b = book(*entries)
    for seed in range(10):
        seeded = check_world_info(
            ["x"], WorldInfoSources(global_books=[b]), max_context=10_000, tokenizer=TOK, rng=seed
        )
        assert fired(seeded) == fired(scan(["x"], b, seed=seed))


def test_inclusion_group_weighted_and_override():
    entries = [
        {"key": ["x"], "content": "A", "group": "g", "groupWeight": 90},
        {"key": ["x"], "content": "B", "group": "g", "groupWeight": 10},
    ]
    wins = [fired(scan(["x"], book(*entries), seed=s)) for s in range(60)]
    assert all(len(w) == 1 for w in wins)
    assert 40 < sum(w == ["A"] for w in wins) < 60
    over = book(
        {"key": ["x"], "content": "A", "group": "g"},
        {"key": ["x"], "content": "B", "group": "g", "groupOverride": True, "order": 5},
        {"key": ["x"], "content": "C", "group": "g", "groupOverride": True, "order": 1},
    )
    assert fired(scan(["x"], over)) == ["B"]


def test_group_scoring():
    b = book(
        {"key": ["x"], "content": "ONE", "group": "g", "useGroupScoring": True},
        {"key": ["x", "y"], "content": "TWO", "group": "g", "useGroupScoring": True},
    )
    assert all(fired(scan(["x y"], b, seed=s)) == ["TWO"] for s in range(10))


def test_multiple_groups_in_one_entry():
    b = book(
        {"key": ["x"], "content": "A", "group": "g1, g2", "groupOverride": True},
        {"key": ["x"], "content": "B", "group": "g2"},
        {"key": ["x"], "content": "C", "group": "g1"},
    )
    assert fired(scan(["x"], b)) == ["A"]


def test_budget_percent_and_cap():
    b = book(
        {"content": "a" * 10, "constant": True, "order": 3},
        {"content": "b" * 10, "constant": True, "order": 2},
        {"content": "c" * 10, "constant": True, "order": 1},
    )
    r = scan(["x"], b, ctx=100, settings=WorldInfoSettings(budget_percent=25))
    assert fired(r) == ["a" * 10, "b" * 10] and r.overflowed and r.budget == 25
    assert r.skipped[-1][1].startswith("over the World Info budget")
    capped = scan(["x"], b, ctx=100, settings=WorldInfoSettings(budget_percent=100, budget_cap=15))
    assert fired(capped) == ["a" * 10]


def test_sticky_cooldown_delay_across_turns():
    b = book({"key": ["bell"], "content": "S", "sticky": 2, "cooldown": 2})
    r1 = scan(["the bell rings"], b, length=10)
    assert fired(r1) == ["S"]
    assert r1.timed_state.sticky["B.0"].end == 12 and r1.timed_state.cooldown["B.0"].end == 12
    r2 = scan(["quiet"], b, state=r1.timed_state, length=11)
    assert fired(r2) == ["S"] and r2.activated[0].reason == "sticky"
    r3 = scan(["the bell"], b, state=r2.timed_state, length=12)
    assert fired(r3) == []  # sticky ended -> cooldown starts (protected)
    assert r3.timed_state.cooldown["B.0"].protected
    r4 = scan(["the bell"], b, state=r3.timed_state, length=13)
    assert fired(r4) == []
    r5 = scan(["the bell"], b, state=r4.timed_state, length=14)
    assert fired(r5) == ["S"]


def test_effect_dropped_when_chat_did_not_advance():
    b = book({"key": ["bell"], "content": "S", "sticky": 3})
    r1 = scan(["bell"], b, length=5)
    again = scan(["quiet"], b, state=r1.timed_state, length=5)  # a swipe: same length
    assert fired(again) == []


def test_delay():
    b = book({"key": ["x"], "content": "L", "delay": 3})
    assert fired(scan(["x"], b, length=2)) == []
    assert fired(scan(["x"], b, length=3)) == ["L"]


def test_timed_state_json_roundtrip():
    b = book({"key": ["bell"], "content": "S", "sticky": 2})
    st = scan(["bell"], b, length=1).timed_state
    assert TimedState.from_dict(st.to_dict()) == st


def test_strategy_and_book_kinds():
    g = book({"content": "G", "constant": True, "order": 100}, name="g")
    c = book({"content": "C", "constant": True, "order": 1}, name="c")
    ch = book({"content": "CHAT", "constant": True, "order": 1}, name="chat")
    r = check_world_info(
        ["x"],
        WorldInfoSources(global_books=[g], character_books=[c], chat_books=[ch]),
        max_context=1000,
        tokenizer=TOK,
        rng=random.Random(0),
        settings=WorldInfoSettings(budget_percent=100),
    )
    assert {a.content for a in r.activated} == {"G", "C", "CHAT"}
    tight = check_world_info(
        ["x"],
        WorldInfoSources(global_books=[g], character_books=[c], chat_books=[ch]),
        max_context=100,
        tokenizer=TOK,
        rng=random.Random(0),
        settings=WorldInfoSettings(budget_percent=8),
    )
    assert {a.content for a in tight.activated} == {"CHAT", "C"}  # chat lore, then character


def test_min_activations_scans_deeper():
    b = book({"key": ["deep"], "content": "D"})
    msgs = ["a", "b", "c", "deep"]
    assert fired(scan(msgs, b)) == []
    assert fired(scan(msgs, b, settings=WorldInfoSettings(min_activations=1))) == ["D"]


def test_decorators():
    b = book(
        {"key": ["zzz"], "content": "@@activate\nFORCED"},
        {"content": "@@dont_activate\nNO", "constant": True},
    )
    assert fired(scan(["x"], b)) == ["FORCED"]


def test_character_filter():
    b = book(
        {
            "content": "F",
            "constant": True,
            "characterFilter": {"names": ["Sera"], "isExclude": False},
        }
    )
    assert fired(scan(["x"], b, character_name="Sera")) == ["F"]
    assert fired(scan(["x"], b, character_name="Bob")) == []


@pytest.mark.parametrize(
    "books",
    [
        (),
        (book({"uid": 1, "key": ["x"], "content": "X", "disable": True}),),
        (book({"uid": 1, "key": ["x"], "content": "X", "characterFilter": {"names": ["B"]}}),),
    ],
)
@pytest.mark.parametrize("state", [None, TimedState()])
def test_nothing_to_scan_gives_what_the_whole_scan_gives(books, state, monkeypatch):
    settings = WorldInfoSettings(budget_percent=10, budget_cap=300)
    quick = scan(["x"], *books, settings=settings, state=state)
    monkeypatch.setattr(worldinfo, "_nothing_to_scan", lambda *_args: False)
    whole = scan(["x"], *books, settings=settings, state=state)
    assert quick == whole
    assert quick.budget == 300 and quick.timed_state == TimedState()


def test_a_timed_effect_is_kept_even_without_entries():
    state = TimedState(sticky={"B.1": TimedEffect("h", 0, 5, False)})
    assert scan(["x"], state=state, length=3).timed_state == state  # its entry may come back
