"""A build's macro substitution: plain-value texts once, the others every time."""

from __future__ import annotations

from pytavern.prompt.common import Substitution
from pytavern.prompt.macros import MacroContext, evaluate, evaluate_plain, has_macros


def test_plain_texts_are_evaluated_once_and_the_others_every_time() -> None:
    ctx = MacroContext(user="Ann", char="Sera", seed=7)
    sub = Substitution(ctx)
    assert sub("") == ""
    assert sub("{{char}} greets <USER>.") == "Sera greets Ann." == sub("{{char}} greets <USER>.")
    rolls = [sub("{{roll:1000}}") for _ in range(6)]
    reference = MacroContext(user="Ann", char="Sera", seed=7)
    assert rolls == [evaluate("{{roll:1000}}", reference) for _ in range(6)]
    assert len(set(rolls)) > 1  # drawn again every time
    sub("{{incvar::turns}}")
    sub("{{incvar::turns}}")
    assert ctx.variables["turns"] == "2"


def test_evaluate_plain_answers_only_for_plain_values() -> None:
    ctx = MacroContext(user="Ann", char="Sera")
    assert evaluate_plain("no macros", ctx) == "no macros"
    assert evaluate_plain("<BOT> and {{user}}", ctx) == "Sera and Ann"
    assert evaluate_plain("{{random::a::b}}", ctx) is None
    assert evaluate_plain("{{setvar::x::1}}", ctx) is None
    assert ctx.variables == {}


def test_has_macros_sees_braces_and_legacy_tags_only() -> None:
    assert has_macros("{{char}}") and has_macros("hi <bot>") and has_macros("<Group>")
    assert not has_macros("<START>\n<b>bold</b> < 3 {single}")
    ctx = MacroContext(user="Ann", char="Sera")
    assert evaluate("<START>\n<b>bold</b>", ctx) == "<START>\n<b>bold</b>"
