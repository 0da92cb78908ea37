"""World Info fields SillyTavern files carry: outlets, ignoreBudget, triggers, scan sources,
``characterFilter.tags`` (semantics of SillyTavern's ``checkWorldInfo``)."""

import random

from pytavern.formats.cards import new_card
from pytavern.formats.worldinfo import (
    character_book_from_lorebook,
    lorebook_from_character_book,
    lorebook_from_dict,
)
from pytavern.prompt.assemble import HistoryMessage, Persona, PromptInput, assemble
from pytavern.prompt.inputs import PromptSettings
from pytavern.prompt.macros import MacroContext, evaluate
from pytavern.prompt.tokens import CharRatioTokenizer
from pytavern.prompt.worldinfo import WorldInfoSettings, WorldInfoSources, check_world_info

TOK = CharRatioTokenizer(1.0)


def book(*entries, name="B"):
    return lorebook_from_dict(
        {"entries": {str(i): {"uid": i, **e} for i, e in enumerate(entries)}}, name
    )


def scan(messages, *books, ctx=10_000, **kw):
    return check_world_info(
        messages,
        WorldInfoSources(global_books=books),
        max_context=ctx,
        tokenizer=TOK,
        rng=random.Random(0),
        settings=WorldInfoSettings(),
        **kw,
    )


def fired(result):
    return sorted(a.content for a in result.activated)


# --- outlets -------------------------------------------------------------------------------


def test_outlet_entries_are_grouped_by_name_and_placed_nowhere_else():
    b = book(
        {"key": ["gate"], "content": "Low", "position": 7, "outletName": "lore", "order": 10},
        {"key": ["gate"], "content": "High", "position": 7, "outletName": "lore", "order": 90},
        {"key": ["gate"], "content": "Other", "position": 7, "outletName": "misc"},
        {"key": ["gate"], "content": "Nameless", "position": 7},
    )
    result = scan(["the gate"], b)
    # SillyTavern pushes in descending order: the highest order comes first
    assert result.outlet_map() == {"lore": "High\nLow", "misc": "Other"}
    assert result.before == result.after == ""
    assert "Nameless" not in " ".join(result.outlet_map().values())
    assert "Nameless" in fired(result)  # activated (and budgeted), but has nowhere to go


def test_outlet_macro_inserts_the_outlet_or_nothing():
    ctx = MacroContext(outlets={"lore": "L1\nL2"})
    assert evaluate("[{{outlet::lore}}]", ctx) == "[L1\nL2]"
    assert evaluate("[{{OUTLET:: lore }}]", ctx) == "[L1\nL2]"
    assert evaluate("[{{outlet::none}}]", ctx) == "[]"
    assert evaluate("{{char}} {{outlet::lore}}", MacroContext(char="Sera")) == "Sera "


def _prompt(description, books, mode="chat"):
    card = new_card("Sera", description=description)
    built = assemble(
        PromptInput(
            card=card,
            history=[HistoryMessage(True, "Ann", "we reach the gate")],
            tokenizer=CharRatioTokenizer(),
            persona=Persona("Ann", ""),
            lorebooks=WorldInfoSources(global_books=books),
            settings=PromptSettings(mode=mode, system_prompt="Be {{char}}."),
        )
    )
    if built.text is not None:
        return built.text
    return "\n".join(m.content for m in built.messages if isinstance(m.content, str))


def test_outlet_entry_reaches_the_prompt_only_where_the_macro_stands():
    b = book({"key": ["gate"], "content": "GATE-LORE", "position": 7, "outletName": "gates"})
    for mode in ("chat", "text"):
        with_macro = _prompt("Sera guards. <<{{outlet::gates}}>>", [b], mode)
        assert with_macro.count("GATE-LORE") == 1
        assert "<<GATE-LORE>>" in with_macro
        assert "GATE-LORE" not in _prompt("Sera guards.", [b], mode)


def test_outlet_entries_spend_the_budget():
    b = book(
        {"key": ["gate"], "content": "x" * 40, "position": 7, "outletName": "o", "order": 90},
        {"key": ["gate"], "content": "after", "order": 10},
    )
    result = scan(["gate"], b, ctx=160)  # budget 40: the outlet entry overflows it
    assert result.overflowed
    assert fired(result) == []


# --- ignoreBudget --------------------------------------------------------------------------


def test_ignore_budget_entries_pass_a_spent_budget():
    b = book(
        {"key": ["gate"], "content": "a" * 30, "order": 90},
        {"key": ["gate"], "content": "b" * 30, "order": 80},
        {"key": ["gate"], "content": "c" * 30, "order": 70, "ignoreBudget": True},
        {"key": ["gate"], "content": "d" * 5, "order": 60},
    )
    result = scan(["gate"], b, ctx=200)  # budget 50
    assert fired(result) == ["a" * 30, "c" * 30]
    assert result.overflowed
    reasons = {e.content[0]: why for e, why in result.skipped}
    assert set(reasons) == {"b", "d"}
    assert all("budget" in why for why in reasons.values())


def test_without_ignore_budget_the_scan_stops_at_the_overflow():
    b = book(
        {"key": ["gate"], "content": "a" * 30, "order": 90},
        {"key": ["gate"], "content": "b" * 30, "order": 80},
        {"key": ["gate"], "content": "c" * 5, "order": 70},
    )
    assert fired(scan(["gate"], b, ctx=200)) == ["a" * 30]


# --- triggers ------------------------------------------------------------------------------


def test_triggers_limit_an_entry_to_generation_types():
    b = book(
        {"key": ["gate"], "content": "any"},
        {"key": ["gate"], "content": "imp", "triggers": ["impersonate"]},
        {"key": ["gate"], "content": "cont", "triggers": ["continue", "swipe"]},
        {"constant": True, "content": "const-normal", "triggers": ["normal"]},
    )
    assert fired(scan(["gate"], b)) == ["any", "const-normal"]
    assert fired(scan(["gate"], b, generation_type="impersonate")) == ["any", "imp"]
    assert fired(scan(["gate"], b, generation_type="swipe")) == ["any", "cont"]


# --- extra scan sources ---------------------------------------------------------------------


def test_scan_sources_add_card_and_persona_texts_per_entry():
    sources = {
        "matchPersonaDescription": "Ann is a smith",
        "matchCharacterDescription": "Sera guards the glade",
        "matchCharacterPersonality": "stern",
        "matchCharacterDepthPrompt": "remember the oath",
        "matchScenario": "a winter siege",
        "matchCreatorNotes": "made for testing",
    }
    entries = [
        {"key": ["smith"], "content": "P", "matchPersonaDescription": True},
        {"key": ["glade"], "content": "D", "matchCharacterDescription": True},
        {"key": ["stern"], "content": "Y", "matchCharacterPersonality": True},
        {"key": ["oath"], "content": "O", "matchCharacterDepthPrompt": True},
        {"key": ["siege"], "content": "S", "matchScenario": True},
        {"key": ["testing"], "content": "N", "matchCreatorNotes": True},
        {"key": ["glade"], "content": "no-switch"},
    ]
    result = scan(["hello"], book(*entries), global_scan=sources)
    assert fired(result) == ["D", "N", "O", "P", "S", "Y"]
    assert fired(scan(["hello"], book(*entries))) == []


def test_scan_sources_do_not_count_when_the_scan_depth_is_zero():
    b = book({"key": ["glade"], "content": "D", "matchScenario": True, "scanDepth": 0})
    assert fired(scan(["x"], b, global_scan={"matchScenario": "glade"})) == []


def test_card_scan_sources_in_a_real_prompt():
    card = new_card("Sera", description="Sera guards the glade.", scenario="A winter siege.")
    b = book({"key": ["siege"], "content": "SIEGE-LORE", "matchScenario": True})
    built = assemble(
        PromptInput(
            card=card,
            history=[HistoryMessage(True, "Ann", "hello")],
            tokenizer=CharRatioTokenizer(),
            lorebooks=WorldInfoSources(global_books=[b]),
        )
    )
    assert [a.entry.content for a in built.breakdown.lore] == ["SIEGE-LORE"]


# --- characterFilter.tags -------------------------------------------------------------------


def test_character_filter_tags_include_and_exclude():
    include = {"key": ["gate"], "content": "inc", "characterFilter": {"tags": ["Fantasy"]}}
    exclude = {
        "key": ["gate"],
        "content": "exc",
        "characterFilter": {"isExclude": True, "tags": ["fantasy"], "names": []},
    }
    b = book(include, exclude)
    assert fired(scan(["gate"], b, character_tags=["fantasy", "hero"])) == ["inc"]
    assert fired(scan(["gate"], b, character_tags=["scifi"])) == ["exc"]
    assert fired(scan(["gate"], b)) == ["exc"]


# --- file round trips ------------------------------------------------------------------------


def test_new_fields_survive_the_character_book_round_trip():
    entry = {
        "uid": 0,
        "key": ["gate"],
        "content": "c",
        "position": 7,
        "outletName": "gates",
        "ignoreBudget": True,
        "triggers": ["normal", "continue"],
        "matchScenario": True,
        "characterFilter": {"isExclude": False, "names": [], "tags": ["t1"]},
    }
    original = lorebook_from_dict({"entries": {"0": entry}}, "B")
    card_book = character_book_from_lorebook(original)
    ext = card_book["entries"][0]["extensions"]
    assert ext["outlet_name"] == "gates"
    assert ext["ignore_budget"] is True
    assert ext["triggers"] == ["normal", "continue"]
    back = lorebook_from_character_book(card_book, "B").entries[0]
    assert back.position == 7
    assert back.outlet_name == "gates"
    assert back.ignore_budget
    assert back.triggers == ("normal", "continue")
    assert back.scan_sources == ("matchScenario",)
    assert (back.raw or {})["characterFilter"]["tags"] == ["t1"]
