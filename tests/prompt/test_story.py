import pytest

from pytavern.errors import FormatError
from pytavern.formats.presets import read_template
from pytavern.prompt.story import render


def test_if_else_unless_and_unknown_variables_left_for_macros():
    tpl = "{{#if a}}A{{else}}no-a{{/if}}|{{#unless b}}no-b{{/unless}}|{{c}}|{{trim}}"
    assert render(tpl, {"a": "", "b": "", "c": "C"}) == "no-a|no-b|C|{{trim}}"
    assert render("{{#if a}}{{#if b}}AB{{/if}}{{/if}}", {"a": "1", "b": "1"}) == "AB"


@pytest.mark.parametrize("tpl", ["{{#if a}}never closed", "stray {{/if}}", "{{#if a}}x{{/unless}}"])
def test_broken_story_strings(tpl):
    with pytest.raises(FormatError, match="story string"):
        render(tpl, {"a": "1"})


@pytest.mark.parametrize(
    ("kind", "data", "problem"),
    [
        ("context", b'{"name": "x"}', "no 'story_string'"),
        ("sysprompt", b'{"name": "x"}', "no 'content'"),
        ("instruct", b'{"name": "x"}', "no input or output sequence"),
        ("instruct", b"not json", "not valid JSON"),
    ],
)
def test_broken_templates(kind, data, problem):
    with pytest.raises(FormatError) as info:
        read_template(kind, data, "preset.json")
    assert "preset.json" in str(info.value) and problem in str(info.value)
