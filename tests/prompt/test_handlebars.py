"""Story strings rendered exactly as Handlebars 4.7.8 renders them (SillyTavern's renderer).

The golden file holds the real Handlebars output for every bundled pytavern context template,
every context template SillyTavern 1.12.6 ships and a set of syntax cases, each under four
parameter sets. Regenerate it with tests/golden/handlebars/make_cases.mjs.
"""

import json
from pathlib import Path

import pytest

from pytavern.errors import FormatError
from pytavern.formats.presets import bundled_names, load_bundled
from pytavern.prompt.handlebars import render

GOLDEN = json.loads(
    (Path(__file__).parent.parent / "golden/handlebars/context_templates.json").read_text()
)
CASES = GOLDEN["cases"]


def _params(case: dict) -> dict:
    params = dict(GOLDEN["param_sets"][case["params"]])
    if case["source"] == "synthetic":
        params |= GOLDEN["extras"]
    return params


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c['source']}-{c['name']}-{c['params']}" for c in CASES]
)
def test_render_equals_handlebars(case):
    assert render(case["template"], _params(case)) == case["output"]


def test_golden_covers_every_bundled_and_sillytavern_template():
    ours = {c["name"] for c in CASES if c["source"] == "pytavern"}
    assert ours == set(bundled_names("context"))
    for name in ours:
        template = load_bundled("context", name)
        case = next(c for c in CASES if c["source"] == "pytavern" and c["name"] == name)
        assert case["template"] == template.story_string
    assert len({c["name"] for c in CASES if c["source"] == "sillytavern"}) == 26


def test_standalone_block_line_takes_its_newline():
    template = "{{#if a}}A\n{{/if}}\n\nend"
    assert render(template, {"a": "1"}) == "A\n\nend"
    assert render("{{#if a}}A{{/if}}\n\nend", {"a": "1"}) == "A\n\nend"


@pytest.mark.parametrize(
    "template",
    [
        "{{#if a}}never closed",
        "stray {{/if}}",
        "{{#if a}}x{{/unless}}",
        "{{else}}",
        "{{#x a}}y{{/x}}",
    ],
)
def test_broken_templates_raise_a_clear_error(template):
    with pytest.raises(FormatError, match="story string") as info:
        render(template, {"a": "1"})
    assert info.value.hint
