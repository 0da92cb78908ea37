"""Chat Completion prompts in SillyTavern's default prompt-manager order."""

import pytest

from pytavern.errors import ConfigError
from pytavern.formats.cards import new_card
from pytavern.formats.worldinfo import lorebook_from_dict
from pytavern.prompt.assemble import (
    AuthorsNote,
    ChatSettings,
    HistoryMessage,
    Persona,
    PromptInput,
    PromptItem,
    PromptSettings,
    assemble,
)
from pytavern.prompt.inputs import DEFAULT_PROMPT_ORDER
from pytavern.prompt.tokens import CharRatioTokenizer
from pytavern.prompt.worldinfo import WorldInfoSources
from pytavern.types import ChatMessage as M

CARD = new_card(
    "Sera",
    description="{{char}} guards the glade.",
    personality="calm",
    scenario="A quiet glade.",
    mes_example="<START>\n{{user}}: Hi\n{{char}}: Yo",
    system_prompt="{{original}} Stay in character.",
    post_history_instructions="Reply briefly, {{user}}.",
)
BOOK = lorebook_from_dict(
    {
        "entries": {
            "0": {"uid": 0, "content": "Lore before.", "constant": True, "position": 0},
            "1": {"uid": 1, "key": ["glade"], "content": "Lore after.", "position": 1},
            "2": {"uid": 2, "content": "Depth lore.", "constant": True, "position": 4, "depth": 1},
        }
    },
    "world",
)
HISTORY = [
    HistoryMessage(False, "Sera", "Hello."),
    HistoryMessage(True, "Ann", "Hey, the glade!"),
]


def build(**kw):
    settings = kw.pop("settings", PromptSettings(context_size=8192, max_reply_tokens=100))
    return assemble(
        PromptInput(
            card=kw.pop("card", CARD),
            history=kw.pop("history", HISTORY),
            tokenizer=CharRatioTokenizer(),
            persona=Persona("Ann", "Ann travels."),
            lorebooks=WorldInfoSources(global_books=[BOOK]),
            authors_note=AuthorsNote("Note.", depth=0, position=1),
            settings=settings,
            **kw,
        )
    )


EXPECTED = [
    M(
        "system",
        "Write Sera's next reply in a fictional chat between Sera and Ann. Stay in character.",
    ),
    M("system", "Lore before."),
    M("system", "Ann travels."),
    M("system", "Sera guards the glade."),
    M("system", "[Sera's personality: calm]"),
    M("system", "[Circumstances and context of the dialogue: A quiet glade.]"),
    M("system", "Lore after."),
    M("system", "[Example Chat]"),
    M("system", "Hi", "example_user"),
    M("system", "Yo", "example_assistant"),
    M("system", "[Start a new Chat]"),
    M("assistant", "Hello."),
    M("system", "Depth lore."),
    M("user", "Hey, the glade!"),
    M("system", "Note."),
    M("system", "Reply briefly, Ann."),
]


def test_default_order_exact_messages():
    built = build()
    assert list(built.messages) == EXPECTED
    assert built.text is None and built.prefill is None
    reasons = {a.content: a.reason for a in built.breakdown.lore}
    assert reasons == {
        "Lore before.": "constant",
        "Depth lore.": "constant",
        "Lore after.": "primary key 'glade'",
    }
    assert built.breakdown.history_included == 2 and built.breakdown.examples_included == 1


def test_card_overrides_can_be_forbidden_and_prompts_disabled_or_custom():
    kept = [
        PromptItem("main", forbid_overrides=True) if i.identifier == "main" else i
        for i in DEFAULT_PROMPT_ORDER
        if i.identifier not in ("dialogueExamples", "worldInfoBefore")
    ]
    custom = PromptItem(
        "custom",
        role="user",
        content="Custom for {{char}}",
        injection_position=1,
        injection_depth=0,
    )
    order = (*kept, custom)
    built = build(settings=PromptSettings(chat=ChatSettings(prompt_order=order)))
    msgs = list(built.messages)
    assert msgs[0].content == "Write Sera's next reply in a fictional chat between Sera and Ann."
    assert M("system", "Lore before.") not in msgs and M("system", "[Example Chat]") not in msgs
    # absolute prompts go in the chat at their depth, system before user at the same depth
    assert msgs[-3:] == [
        M("user", "Custom for Sera"),
        M("system", "Note."),
        M("system", "Reply briefly, Ann."),
    ]


def test_budget_cuts_examples_then_history():
    roomy = build(settings=PromptSettings(context_size=180, max_reply_tokens=10))
    assert roomy.breakdown.examples_included == 1 and roomy.breakdown.total_tokens <= 170
    built = build(settings=PromptSettings(context_size=160, max_reply_tokens=10))
    assert built.breakdown.cut == () and built.breakdown.history_included == 2
    assert built.breakdown.examples_included == 0  # examples go first
    assert M("system", "[Example Chat]") not in built.messages
    tight = build(settings=PromptSettings(context_size=140, max_reply_tokens=10))
    assert tight.breakdown.history_included == 1
    assert tight.breakdown.cut == ("older chat history",)
    assert M("assistant", "Hello.") not in tight.messages
    assert tight.breakdown.total_tokens <= 130
    with pytest.raises(ConfigError, match="fixed parts"):
        build(settings=PromptSettings(context_size=100, max_reply_tokens=10))


def test_impersonate_continue_and_prefill():
    imp = build(
        generation_type="impersonate",
        settings=PromptSettings(chat=ChatSettings(assistant_impersonation="As {{user}}:")),
    )
    assert imp.messages[-1].content.startswith(
        "[Write your next reply from the point of view of Ann"
    )
    assert imp.prefill == "As Ann:"
    history = [*HISTORY, HistoryMessage(False, "Sera", "I was")]
    cont = build(generation_type="continue", history=history)
    assert cont.messages[-2].content.startswith("[Continue the following message.")
    assert cont.messages[-2].content.endswith(": I was]")
    pre = build(
        generation_type="continue",
        history=history,
        settings=PromptSettings(chat=ChatSettings(continue_prefill=True)),
    )
    assert pre.messages[-1] == M("assistant", "I was ")
    assert M("assistant", "I was") not in pre.messages[:-1]
    normal = build(settings=PromptSettings(chat=ChatSettings(assistant_prefill="Sure,")))
    assert normal.prefill == "Sure,"


def test_names_behaviors_and_squash():
    named = build(settings=PromptSettings(chat=ChatSettings(names_behavior=1)))
    assert M("user", "Hey, the glade!", "Ann") in named.messages
    content = build(settings=PromptSettings(chat=ChatSettings(names_behavior=2)))
    assert M("assistant", "Sera: Hello.") in content.messages
    squashed = build(settings=PromptSettings(chat=ChatSettings(squash_system_messages=True)))
    assert squashed.messages[0].content.startswith("Write Sera's next reply")
    assert "\nLore before.\nAnn travels.\n" in squashed.messages[0].content
    assert M("system", "[Start a new Chat]") in squashed.messages
    assert M("system", "[Example Chat]") in squashed.messages


def test_hidden_messages_skipped_and_timed_state_returned():
    history = [*HISTORY, HistoryMessage(True, "Ann", "secret", is_system=True)]
    built = build(history=history)
    assert list(built.messages) == EXPECTED
    assert built.timed_state.sticky == {}


def test_hidden_messages_do_not_break_lore_scan():
    history = [
        HistoryMessage(True, "Ann", "the glade"),
        *[HistoryMessage(True, "Ann", "hidden", is_system=True) for _ in range(5)],
    ]
    built = build(history=history)
    assert "Lore after." in [m.content for m in built.messages]
