"""Each prompt-manager item's text is evaluated once per build: macros that change the
context (``{{incvar}}``, ``{{roll}}``, ``{{random}}``...) act once, as in SillyTavern."""

from __future__ import annotations

import random

from pytavern.formats.cards import Card, new_card
from pytavern.formats.presets import load_bundled
from pytavern.prompt.assemble import (
    BuiltPrompt,
    ChatSettings,
    HistoryMessage,
    Persona,
    PromptInput,
    PromptItem,
    PromptSettings,
    TextSettings,
    assemble,
)
from pytavern.prompt.inputs import DEFAULT_PROMPT_ORDER
from pytavern.prompt.macros import MacroContext
from pytavern.prompt.tokens import CharRatioTokenizer

CARD = new_card("Sera", description="{{char}} guards the glade.", personality="calm")
HISTORY = [HistoryMessage(False, "Sera", "Hello."), HistoryMessage(True, "Ann", "Hey.")]
SEED = 1234


def build(chat: ChatSettings, variables: dict[str, str], card: Card = CARD) -> BuiltPrompt:
    """A chat build whose macros change ``variables``."""
    return assemble(
        PromptInput(
            card=card,
            history=HISTORY,
            tokenizer=CharRatioTokenizer(),
            persona=Persona("Ann", "Ann travels."),
            settings=PromptSettings(context_size=8192, max_reply_tokens=100, chat=chat),
            macros=MacroContext(seed=SEED, variables=variables),
        )
    )


def contents(built: BuiltPrompt) -> list[str]:
    return [m.content for m in built.messages]


def test_a_builtin_prompt_with_a_counter_counts_once() -> None:
    variables: dict[str, str] = {}
    built = build(ChatSettings(nsfw_prompt="Turn {{incvar::n}}."), variables)
    assert variables == {"n": "1"}
    assert "Turn 1." in contents(built)


def test_enhance_definitions_with_a_counter_counts_once() -> None:
    order = tuple(
        PromptItem(i.identifier) if i.identifier == "enhanceDefinitions" else i
        for i in DEFAULT_PROMPT_ORDER
    )
    variables: dict[str, str] = {}
    chat = ChatSettings(enhance_definitions="Seen {{incvar::seen}} time(s).", prompt_order=order)
    built = build(chat, variables)
    assert variables == {"seen": "1"}
    assert "Seen 1 time(s)." in contents(built)


def test_a_custom_prompt_rolls_once() -> None:
    custom = PromptItem("custom-1", role="system", content="Roll {{roll:d1000000}}.")
    order = (*DEFAULT_PROMPT_ORDER, custom)
    variables: dict[str, str] = {}
    built = build(ChatSettings(prompt_order=order), variables)
    once = random.Random(SEED).randint(1, 1000000)
    assert f"Roll {once}." in contents(built)


def test_a_custom_prompt_in_the_chat_counts_once() -> None:
    custom = PromptItem(
        "custom-2", content="Deep {{incvar::d}}.", injection_position=1, injection_depth=1
    )
    variables: dict[str, str] = {}
    built = build(ChatSettings(prompt_order=(*DEFAULT_PROMPT_ORDER, custom)), variables)
    assert variables == {"d": "1"}
    assert contents(built)[-3:] == ["Hello.", "Deep 1.", "Hey."]


def test_card_fields_and_prompt_parts_roll_one_sequence() -> None:
    nsfw = ChatSettings(nsfw_prompt="Then {{roll:d1000000}}.")
    rolls = random.Random(SEED)
    first, second = rolls.randint(1, 1000000), rolls.randint(1, 1000000)
    card = new_card("Sera", description="First {{roll:d1000000}}.")
    texts = contents(build(nsfw, {}, card))
    assert f"First {first}." in texts and f"Then {second}." in texts
    assert f"Then {first}." in contents(build(nsfw, {}))  # the card rolled nothing


def test_a_text_prompt_evaluates_only_the_system_prompt_it_sends() -> None:
    card = new_card("Sera", description="{{char}} guards the glade.")
    card_with_prompt = new_card("Sera", system_prompt="Card {{incvar::c}}.")
    for chosen, expected in ((card_with_prompt, {"c": "1"}), (card, {"s": "1"})):
        variables: dict[str, str] = {}
        built = assemble(
            PromptInput(
                card=chosen,
                history=HISTORY,
                tokenizer=CharRatioTokenizer(),
                persona=Persona("Ann", ""),
                settings=PromptSettings(
                    mode="text",
                    context_size=8192,
                    max_reply_tokens=100,
                    system_prompt="Sys {{incvar::s}}.",
                    text=TextSettings(context=load_bundled("context", "Default")),
                ),
                macros=MacroContext(seed=SEED, variables=variables),
            )
        )
        assert variables == expected
        assert built.text is not None and ("Card 1." in built.text or "Sys 1." in built.text)
