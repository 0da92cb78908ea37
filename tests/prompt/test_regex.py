"""Regex scripts run as SillyTavern runs them: JavaScript patterns, flags, groups, trim
strings, macros, placements, display-only / prompt-only and depth limits."""

from __future__ import annotations

from typing import Any

import pytest

from pytavern.errors import FormatError
from pytavern.formats.regex import Placement, read_scripts, script_from_dict, write_scripts
from pytavern.prompt.macros import MacroContext
from pytavern.prompt.regex import RegexUse, apply_scripts, compile_js_regex, run_script, runs

CTX = MacroContext(user="Ann", char="Bob")


def script(**fields: Any) -> Any:
    return script_from_dict({"scriptName": "t", "placement": [2], **fields})


def test_global_flag_replaces_every_match_and_bare_pattern_only_the_first() -> None:
    assert run_script(script(findRegex="/a/g", replaceString="b"), "aaa", CTX) == "bbb"
    assert run_script(script(findRegex="a", replaceString="b"), "aaa", CTX) == "baa"


def test_case_flag_and_groups_and_match_macro() -> None:
    found = script(findRegex=r"/(\w+) SAYS/gi", replaceString="<{{match}}|$1|$7>")
    assert run_script(found, "tom says hi", CTX) == "<tom says|tom|> hi"


def test_trim_strings_are_removed_from_inserted_groups_only() -> None:
    trimmed = script(findRegex="/\\*(.+?)\\*/g", replaceString="_$1_ *", trimStrings=["{{char}}"])
    assert run_script(trimmed, "*Bob waves*", CTX) == "_ waves_ *"


def test_macros_in_pattern_raw_and_escaped() -> None:
    CTX_DOT = MacroContext(user="A.n", char="Bob")
    raw = script(findRegex="/{{user}}/g", replaceString="X", substituteRegex=1)
    escaped = script(findRegex="/{{user}}/g", replaceString="X", substituteRegex=2)
    none = script(findRegex="/{{user}}/g", replaceString="X", substituteRegex=0)
    assert run_script(raw, "A.n Abn", CTX_DOT) == "X X"  # the dot matches anything
    assert run_script(escaped, "A.n Abn", CTX_DOT) == "X Abn"
    assert run_script(none, "A.n {{user}}", CTX_DOT) == "A.n X"


def test_replacement_macros_are_substituted_last() -> None:
    assert run_script(script(findRegex="/hi/", replaceString="hi {{user}}"), "hi", CTX) == "hi Ann"


def test_javascript_syntax_named_groups_classes_and_end_anchor() -> None:
    named = compile_js_regex(r"/(?<w>o)\k<w>/g")
    assert named is not None and named.pattern.sub("0", "foo") == "f0"
    assert compile_js_regex("/[^]+/") is not None
    end = compile_js_regex("/x$/")
    assert end is not None and end.pattern.search("x\n") is None
    assert compile_js_regex("/(/") is None
    assert run_script(script(findRegex="/(/", replaceString="z"), "((", CTX) == "(("


def test_placement_display_only_prompt_only_and_edit() -> None:
    plain = script(findRegex="/a/", replaceString="b")
    display = script(findRegex="/a/", replaceString="b", markdownOnly=True)
    prompt = script(findRegex="/a/", replaceString="b", promptOnly=True)
    stored, shown, sent = (
        RegexUse(Placement.AI_OUTPUT),
        RegexUse(Placement.AI_OUTPUT, markdown=True),
        RegexUse(Placement.AI_OUTPUT, prompt=True),
    )
    assert [runs(plain, u) for u in (stored, shown, sent)] == [True, False, False]
    assert [runs(display, u) for u in (stored, shown, sent)] == [False, True, False]
    assert [runs(prompt, u) for u in (stored, shown, sent)] == [False, False, True]
    assert not runs(plain, RegexUse(Placement.USER_INPUT))
    assert not runs(plain, RegexUse(Placement.AI_OUTPUT, edit=True))
    assert runs(script(findRegex="a", runOnEdit=True), RegexUse(Placement.AI_OUTPUT, edit=True))


def test_depth_limits() -> None:
    limited = script(findRegex="/a/", replaceString="b", minDepth=1, maxDepth=2)
    uses = [RegexUse(Placement.AI_OUTPUT, depth=d) for d in range(4)]
    assert [runs(limited, use) for use in uses] == [False, True, True, False]
    assert runs(limited, RegexUse(Placement.AI_OUTPUT))  # no depth: not limited


def test_scripts_run_in_order_and_disabled_ones_do_not() -> None:
    scripts = [
        script(findRegex="/a/g", replaceString="b"),
        script(findRegex="/b/g", replaceString="c"),
        script(findRegex="/c/g", replaceString="d", disabled=True),
    ]
    assert apply_scripts("aa", scripts, RegexUse(Placement.AI_OUTPUT), CTX) == "cc"


def test_file_round_trip_keeps_unknown_fields() -> None:
    data = (
        b'{"id":"1","scriptName":"n","findRegex":"/x/","replaceString":"y",'
        b'"placement":[1,2],"substituteRegex":true,"minDepth":null,"maxDepth":"3","odd":5}'
    )
    [read] = read_scripts(data)
    assert read.placement == (1, 2) and read.max_depth == 3 and int(read.substitute) == 1
    [again] = read_scripts(write_scripts([read]))
    assert again == read and again.to_dict()["odd"] == 5


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b'{"findRegex": 3}'])
def test_bad_files_get_a_clear_error(data: bytes) -> None:
    with pytest.raises(FormatError) as caught:
        read_scripts(data)
    assert caught.value.hint
