"""Persona positions, author's note, depth prompts, lore placement, lazy history."""

from collections.abc import Sequence

from pytavern.formats.cards import new_card
from pytavern.formats.chats import parse_chat_jsonl
from pytavern.formats.presets import load_bundled
from pytavern.formats.worldinfo import lorebook_from_dict
from pytavern.prompt.assemble import (
    AuthorsNote,
    HistoryMessage,
    Persona,
    PromptInput,
    PromptSettings,
    TextSettings,
    assemble,
    clean_reply,
)
from pytavern.prompt.tokens import CharRatioTokenizer
from pytavern.prompt.worldinfo import WorldInfoSources

CARD = new_card(
    "Sera",
    description="{{char}} guards the glade.",
    mes_example="<START>\n{{user}}: Hi\n{{char}}: Yo",
)
HISTORY = [HistoryMessage(False, "Sera", "Hello."), HistoryMessage(True, "Ann", "Hey.")]
HEAD = "Be Sera.\nSera guards the glade.\n"
EXAMPLES = "***\nAnn: Hi\nSera: Yo\n***\n"


def text(persona=None, note=None, card=CARD, history=HISTORY, books=(), instruct=None, **kw):
    settings = PromptSettings(
        mode="text",
        system_prompt="Be {{char}}.",
        text=TextSettings(instruct=instruct, context=load_bundled("context", "Default")),
        **kw,
    )
    return assemble(
        PromptInput(
            card=card,
            history=history,
            tokenizer=CharRatioTokenizer(),
            persona=persona or Persona("Ann", "Ann travels."),
            authors_note=note,
            lorebooks=WorldInfoSources(global_books=list(books)),
            settings=settings,
        )
    )


def test_persona_positions():
    at_depth = text(Persona("Ann", "Ann travels.", position=4, depth=1))
    assert at_depth.text == HEAD + EXAMPLES + "Sera: Hello.\nAnn travels.\nAnn: Hey.\nSera:"
    none = text(Persona("Ann", "Ann travels.", position=9))
    assert "Ann travels." not in none.text
    top = text(Persona("Ann", "Ann travels.", position=2), AuthorsNote("Note.", depth=0))
    assert top.text.endswith("Ann: Hey.\nAnn travels.\nNote.\nSera:")
    bottom = text(Persona("Ann", "Ann travels.", position=3), AuthorsNote("Note.", depth=0))
    assert bottom.text.endswith("Ann: Hey.\nNote.\nAnn travels.\nSera:")


def test_authors_note_positions_and_frequency():
    persona = Persona("Ann", "")
    after = text(persona, AuthorsNote("Note {{char}}.", position=0))
    assert after.text.startswith(HEAD + "\nNote Sera.\n" + EXAMPLES)
    before = text(persona, AuthorsNote("Note.", position=2))
    assert before.text.startswith("Note.\n" + HEAD)
    in_chat = text(persona, AuthorsNote("Note.", position=1, depth=1))
    assert in_chat.text.endswith("Sera: Hello.\nNote.\nAnn: Hey.\nSera:")
    # frequency 2 with one user message: not this turn; with two: yes
    assert "Note." not in text(persona, AuthorsNote("Note.", frequency=2)).text
    assert "Note." in text(persona, AuthorsNote("Note.", frequency=2, user_message_count=2)).text
    assert "Note." not in text(persona, AuthorsNote("Note.", frequency=0)).text


def test_card_depth_prompt_and_lore_in_text_mode():
    card = CARD.with_fields(
        extensions={"depth_prompt": {"prompt": "Stay {{char}}.", "depth": 0, "role": "system"}}
    )
    book = lorebook_from_dict(
        {
            "entries": {
                "0": {"uid": 0, "content": "Before.", "constant": True, "position": 0},
                "1": {"uid": 1, "content": "After.", "constant": True, "position": 1},
                "2": {
                    "uid": 2,
                    "content": "Ann: Lore?\nSera: Lore!",
                    "constant": True,
                    "position": 6,
                },
            }
        },
        "w",
    )
    built = text(Persona("Ann", ""), card=card, books=[book])
    assert built.text == (
        "Be Sera.\nBefore.\nSera guards the glade.\nAfter.\n"
        "***\nAnn: Hi\nSera: Yo\n***\nAnn: Lore?\nSera: Lore!\n***\n"
        "Sera: Hello.\nAnn: Hey.\nStay Sera.\nSera:"
    )
    assert {a.content for a in built.breakdown.lore} == {
        "Before.",
        "After.",
        "Ann: Lore?\nSera: Lore!",
    }


class CountingHistory(Sequence[HistoryMessage]):
    def __init__(self, n):
        self.n, self.reads = n, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.reads += 1
        return HistoryMessage(i % 2 == 1, "Ann" if i % 2 else "Sera", f"message number {i}")


def test_history_is_walked_newest_first_and_lazily():
    for mode in ("text", "chat"):
        history = CountingHistory(50_000)
        built = assemble(
            PromptInput(
                card=CARD,
                history=history,
                tokenizer=CharRatioTokenizer(),
                settings=PromptSettings(mode=mode, context_size=1024, max_reply_tokens=200),
            )
        )
        assert 10 < built.breakdown.history_included < 200
        assert history.reads < 600
        assert "older chat history" in built.breakdown.cut
        newest = "message number 49999"
        assert (built.text or built.messages[-1].content).count(newest) == 1


def test_history_from_chat_file_and_clean_reply():
    chat = parse_chat_jsonl(
        '{"user_name":"Ann","character_name":"Sera","create_date":"x","chat_metadata":{}}\n'
        '{"name":"Sera","is_user":false,"mes":"Hello."}\n'
        '{"name":"Ann","is_user":true,"mes":"Hey."}\n'
        '{"name":"Ann","is_user":true,"is_system":true,"mes":"hidden"}',
        "c.jsonl",
    )
    history = [HistoryMessage.from_record(r) for r in chat.messages]
    built = text(history=history)
    assert "hidden" not in built.text and built.text.endswith("Ann: Hey.\nSera:")
    inp = PromptInput(
        card=CARD,
        history=history,
        tokenizer=CharRatioTokenizer(),
        persona=Persona("Ann"),
        settings=PromptSettings(mode="text"),
    )
    assert clean_reply(inp, built, "Sera: Fine.\nAnn: and you?") == "Fine."


def test_post_history_instructions_in_text_mode_when_context_allows():
    from dataclasses import replace

    card = CARD.with_fields(post_history_instructions="Keep it short, {{user}}.{{original}}")
    ctx = replace(load_bundled("context", "Default"), allow_jailbreak=True)
    settings = PromptSettings(
        mode="text", system_prompt="Be {{char}}.", text=TextSettings(context=ctx)
    )
    built = assemble(
        PromptInput(
            card=card,
            history=HISTORY,
            tokenizer=CharRatioTokenizer(),
            persona=Persona("Ann"),
            settings=settings,
        )
    )
    assert built.text.endswith("Ann: Hey.\nKeep it short, Ann.\nSera:")
    assert "Keep it short" not in text(card=card).text


def test_send_dates_and_idle_duration():
    from datetime import UTC, datetime

    from pytavern.prompt.inputs import parse_send_date
    from pytavern.prompt.macros import MacroContext

    assert parse_send_date(1727524800000) == datetime(2024, 9, 28, 12, 0, tzinfo=UTC)
    assert parse_send_date("September 28, 2024 12:05pm") == datetime(2024, 9, 28, 12, 5, tzinfo=UTC)
    assert parse_send_date("2024-09-28T12:00:00Z") == datetime(2024, 9, 28, 12, tzinfo=UTC)
    assert parse_send_date("garbage") is None and parse_send_date(None) is None
    history = [
        HistoryMessage(True, "Ann", "a", send_date=datetime(2024, 9, 28, 9, tzinfo=UTC)),
        HistoryMessage(False, "Sera", "b"),
        HistoryMessage(True, "Ann", "c", send_date=datetime(2024, 9, 28, 12, tzinfo=UTC)),
    ]
    card = CARD.with_fields(system_prompt="Idle {{idle_duration}}.")
    built = assemble(
        PromptInput(
            card=card,
            history=history,
            tokenizer=CharRatioTokenizer(),
            persona=Persona("Ann"),
            macros=MacroContext(now=datetime(2024, 9, 28, 12, 1, tzinfo=UTC)),
        )
    )
    assert built.messages[0].content == "Idle 3 hours."
