import dataclasses
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pytavern.prompt.macros import (
    MacroContext,
    evaluate,
    evaluate_in_order,
    humanize,
    replace_names,
    replaced,
)

NOW = datetime(2024, 9, 28, 15, 5, tzinfo=UTC)


def ctx(**kw):
    base = {"user": "Ann", "char": "Sera", "now": NOW, "seed": 1, "chat_id": "chat-1"}
    base.update(kw)
    return MacroContext(**base)


def test_names_case_insensitive_and_legacy():
    c = ctx()
    assert (
        evaluate("{{user}} {{CHAR}} {{Char}} <USER> <bot> <CHAR>", c)
        == "Ann Sera Sera Ann Sera Sera"
    )


def test_card_fields_and_nested_char():
    c = ctx(
        description="{{char}} is tall",
        personality="kind",
        scenario="glade",
        persona="p",
        mes_examples="ex",
    )
    out = evaluate("{{description}}|{{personality}}|{{scenario}}|{{persona}}|{{mesExamples}}", c)
    assert out == "Sera is tall|kind|glade|p|ex"


def test_time_macros():
    c = ctx(idle_since=NOW - timedelta(minutes=5))
    assert evaluate("{{time}}|{{date}}|{{weekday}}|{{isotime}}|{{isodate}}", c) == (
        "3:05 PM|September 28, 2024|Saturday|15:05|2024-09-28"
    )
    assert evaluate("{{idle_duration}}", c) == "5 minutes"
    assert evaluate("{{idle_duration}}", ctx()) == "just now"
    assert evaluate("{{time_UTC+2}}", c) == "5:05 PM"


def test_datetimeformat_tokens():
    t = datetime(2024, 3, 7, 9, 4, 5, tzinfo=UTC)
    c = ctx(now=t)
    fmt = "YYYY YY MMMM MMM MM M DD D dddd ddd HH H hh h mm m ss s A a"
    assert evaluate("{{datetimeformat " + fmt + "}}", c) == (
        "2024 24 March Mar 03 3 07 7 Thursday Thu 09 9 09 9 04 4 05 5 AM am"
    )
    assert evaluate("{{datetimeformat Do [of] MMMM, [at] h:mm A}}", ctx()) == (
        "28th of September, at 3:05 PM"
    )
    assert evaluate("{{DateTimeFormat  DDDD|DDD}}", c) == "067|67"
    assert evaluate("{{datetimeformat}}", c) == "{{datetimeformat}}"


def test_datetimeformat_is_evaluated_after_the_names():
    """Its format may hold macros (SillyTavern substitutes the names first)."""
    assert evaluate("{{datetimeformat [{{char}}] YYYY}}", ctx()) == "Sera 2024"


def test_time_diff_humanizes_with_a_suffix():
    c = ctx()
    assert evaluate("{{timeDiff::2024-01-03::2024-01-01}}", c) == "in 2 days"
    assert evaluate("{{timeDiff::2024-01-01::2024-01-03}}", c) == "2 days ago"
    assert evaluate("{{timeDiff::2024-01-01T10:00::2024-01-01 10:00}}", c) == ("a few seconds ago")
    assert evaluate("{{timediff::{{isodate}}::2024-09-08}}", c) == "in 20 days"
    assert evaluate("{{timeDiff::{{date}} {{time}}::September 28, 2024 1:05 PM}}", c) == (
        "in 2 hours"
    )
    assert evaluate("{{timeDiff:: 2024-09-28T15:05:00Z ::Sat, 28 Sep 2024 13:05:00 +0000}}", c) == (
        "in 2 hours"
    )
    assert evaluate("{{timeDiff::2023-09::2024-09}}", c) == "a year ago"
    assert evaluate("{{timeDiff::soon::2024-01-01}}", c) == "Invalid date"


def test_banned_words_are_removed_and_recorded():
    c = ctx()
    out = evaluate('Hi {{banned "forbidden"}}{{user}}.\n{{BANNED "Sera"}}', c)
    assert out == "Hi Ann.\n"
    assert c.banned_words == ["forbidden", "Sera"]
    assert evaluate('{{banned "{{char}}"}}', c) == ""
    assert c.banned_words[-1] == "Sera"


def test_banned_pattern_is_greedy_like_sillytavern():
    c = ctx()
    assert evaluate('{{banned "a"}} {{banned "b"}}', c) == ""
    assert c.banned_words == ['a"}} {{banned "b']


def test_banned_words_are_shared_by_copied_contexts():
    import dataclasses

    c = ctx()
    evaluate('{{banned "x"}}', dataclasses.replace(c, char="Other"))
    assert c.banned_words == ["x"]


def test_humanize_thresholds():
    assert humanize(timedelta(seconds=10)) == "a few seconds"
    assert humanize(timedelta(seconds=60)) == "a minute"
    assert humanize(timedelta(hours=3)) == "3 hours"
    assert humanize(timedelta(days=1)) == "a day"
    assert humanize(timedelta(days=3)) == "3 days"
    assert humanize(timedelta(days=800)) == "2 years"


def test_random_is_seeded_and_both_syntaxes():
    outs = {evaluate("{{random::a::b::c}}", ctx(seed=s)) for s in range(30)}
    assert outs == {"a", "b", "c"}
    assert evaluate("{{random::a::b::c}}", ctx(seed=5)) == evaluate(
        "{{random::a::b::c}}", ctx(seed=5)
    )
    assert evaluate("{{random:x, y\\, z}}", ctx(seed=3)) in {"x", "y, z"}
    c = ctx(seed=9)
    seq = [evaluate("{{random::1::2::3::4::5::6}}", c) for _ in range(20)]
    assert len(set(seq)) > 1  # re-rolled every time


def test_pick_is_stable_per_chat_and_position():
    text = "{{pick::a::b::c::d::e::f::g}} {{pick::a::b::c::d::e::f::g}}"
    one = evaluate(text, ctx(seed=1))
    assert one == evaluate(text, ctx(seed=99))  # not the RNG: chat + content + position
    picks = {evaluate(text, ctx(chat_id=f"c{i}")) for i in range(30)}
    assert len(picks) > 1


def test_roll():
    c = ctx(seed=4)
    values = {int(evaluate("{{roll:d20}}", c)) for _ in range(200)}
    assert min(values) >= 1 and max(values) <= 20 and len(values) > 10
    assert 5 <= int(evaluate("{{roll 2d6+3}}", c)) <= 15
    assert 1 <= int(evaluate("{{roll:6}}", c)) <= 6
    assert evaluate("{{roll:banana}}", c) == ""


def test_chat_state_macros():
    c = ctx(last_message="m", last_user_message="u", last_char_message="c", last_message_id=7)
    assert evaluate(
        "{{lastMessage}}|{{lastUserMessage}}|{{lastCharMessage}}|{{lastMessageId}}", c
    ) == ("m|u|c|7")


def test_variables():
    c = ctx(variables={"mood": "calm"})
    # like SillyTavern, getvar runs before setvar on the same line
    assert evaluate("{{setvar::x::5}}{{getvar::x}}", c) == ""
    assert evaluate("{{setvar::x::5}}\n{{getvar::x}}", c) == "\n5"
    assert c.variables["x"] == "5"
    assert evaluate("{{getvar::mood}}", c) == "calm"
    assert evaluate("{{addvar::x::2}}", c) == "" and c.variables["x"] == "7"
    assert evaluate("{{incvar::x}}", c) == "8"
    assert evaluate("{{setglobalvar::g::hi}}\n{{getglobalvar::g}}", c) == "\nhi"
    assert evaluate("{{getvar::missing}}", c) == ""


def test_comments_trim_newline_noop_reverse():
    c = ctx()
    assert evaluate("a{{// a comment\nover lines}}b", c) == "ab"
    assert evaluate("x\n\n{{trim}}\ny", c) == "xy"
    assert evaluate("a{{newline}}b{{noop}}", c) == "a\nb"
    assert evaluate("{{reverse:abc}}", c) == "cba"


def test_original_inserted_once():
    assert evaluate("{{original}} + {{original}}", ctx(), original="MAIN") == "MAIN + "
    assert evaluate("{{original}}", ctx()) == "{{original}}"


def test_extra_and_unknown_left_alone():
    c = ctx(extra={"instructInput": "<in>"})
    assert evaluate("{{instructInput}} {{unknownMacro}}", c) == "<in> {{unknownMacro}}"


def test_replace_names_fast_path():
    assert replace_names("{{user}} and <BOT>", "A", "B") == "A and B"
    assert replace_names("plain", "A", "B") == "plain"


_PIECES = [
    "{{char}}",
    "{{User}}",
    "{{CHAR}}",
    "{{description}}",
    "{{persona}}",
    "{{model}}",
    "{{newline}}",
    "{{noop}}",
    "{{lastMessage}}",
    "{{group}}",
    "{{trim}}",
    "{{random::a::b}}",
    "{{// note }}",
    "{{setvar::x::1}}{{getvar::x}}",
    "{{datetimeformat YYYY [{{char}}]}}",
    "{{timeDiff::{{isodate}}::2024-12-30}}",
    '{{banned "{{user}}"}}',
    "<USER>",
    "<BOT>",
    "{",
    "}",
    "{{",
    "}}",
    "\n",
    " plain text ",
]


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(_PIECES), max_size=12),
    description=st.sampled_from(["", "{{char}} is tall", "plain", "{{user}}'s friend"]),
)
def test_one_pass_shortcut_matches_the_ordered_chain(pieces: list[str], description: str) -> None:
    """``evaluate``'s one-pass shortcut gives exactly what SillyTavern's ordered chain gives."""
    text = "".join(pieces)

    def context() -> MacroContext:
        return MacroContext(
            user="Ann",
            char="Wren",
            description=description,
            persona="{{char}}'s reader",
            model="m",
            last_message="last",
            seed=7,
            now=datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
        )

    assert evaluate(text, context()) == evaluate_in_order(text, context())


def test_a_replaced_context_is_what_dataclasses_replace_makes() -> None:
    """Every field copied, the changes applied, the variables shared, a generator of its own."""
    ctx = MacroContext(user="U", seed=7, variables={"a": "1"}, now=datetime(2025, 1, 1, tzinfo=UTC))
    ctx.rng.random()  # made: a copy must not take it
    copy = replaced(ctx, char="C", scenario="S")
    assert copy == dataclasses.replace(ctx, char="C", scenario="S")
    assert copy.variables is ctx.variables and copy.banned_words is ctx.banned_words
    assert copy._rng is None and copy.rng is not ctx.rng
