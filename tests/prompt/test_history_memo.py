"""History messages keep what the chat builder made of them: a warm build sends what a
cold one does, and whatever the kept form depends on is seen when it changes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pytavern.formats.cards import new_card
from pytavern.prompt.assemble import (
    AuthorsNote,
    BuiltPrompt,
    ChatSettings,
    HistoryMessage,
    Persona,
    PromptInput,
    PromptSettings,
    assemble,
)
from pytavern.prompt.chat_builder import _block_messages
from pytavern.prompt.tokens import (
    CachedTokenizer,
    CharRatioTokenizer,
    CountCache,
    KeyedTokenizer,
    OpenAITokenizer,
    RecordingTokenizer,
    Tokenizer,
    counts_key,
)

CARD = new_card("Sera", description="{{char}} guards the glade.")


class Counted:
    """Counts one token a character, noting every text it was asked to count."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def count(self, text: str) -> int:
        self.asked.append(text)
        return len(text)


def chat(count: int = 40) -> list[HistoryMessage]:
    """A chat of ``count`` messages; one holds a macro, one a ``\\r``, one forced a name."""
    messages = [
        HistoryMessage(i % 2 == 0, "Ann" if i % 2 == 0 else "Sera", f"Line {i}, a while ago.")
        for i in range(count)
    ]
    messages[-3] = HistoryMessage(True, "Ann", "I am {{user}}, hi <BOT>.")
    messages[-4] = HistoryMessage(False, "Sera", "Two\r\nlines.")
    messages[-5] = HistoryMessage(False, "Bo", "A guest speaks.", force_avatar=True)
    messages[-6] = HistoryMessage(True, "Ann", "<b>Loud</b> <START>")
    return messages


def build(
    history: list[HistoryMessage],
    tokenizer: Tokenizer | None = None,
    names: int = 0,
    persona: str = "Ann",
    context: int = 400,
) -> BuiltPrompt:
    settings = PromptSettings(
        context_size=context, max_reply_tokens=50, chat=ChatSettings(names_behavior=names)
    )
    return assemble(
        PromptInput(
            card=CARD,
            history=history,
            tokenizer=tokenizer or CharRatioTokenizer(),
            persona=Persona(persona, ""),
            settings=settings,
        )
    )


def fresh(history: list[HistoryMessage]) -> list[HistoryMessage]:
    """The same messages as new objects (nothing kept)."""
    return [replace(message) for message in history]


def test_a_second_build_sends_what_the_first_did_and_counts_only_what_is_new(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    count = CharRatioTokenizer.count

    def counted(self: CharRatioTokenizer, text: str) -> int:
        asked.append(text)
        return count(self, text)

    monkeypatch.setattr(CharRatioTokenizer, "count", counted)
    history = chat()
    first = build(history)
    counted_first = len(asked)
    asked.clear()
    assert build(history) == first  # the whole prompt and its breakdown
    assert "Line 30, a while ago." not in asked  # kept from the first build
    assert "I am Ann, hi Sera." in asked  # a text with macros is made again
    assert "<b>Loud</b> <START>" not in asked  # no macro: kept
    assert len(asked) < counted_first // 2
    assert first.breakdown.history_included > 20


def test_a_kept_form_follows_the_names_behaviour_the_persona_and_the_tokenizer() -> None:
    history = chat()
    build(history)
    for names in (1, 2, 0):
        assert build(history, names=names) == build(fresh(history), names=names)
    assert any(m.content == "Bo: A guest speaks." for m in build(history).messages)
    renamed = build(history, persona="Bo")  # a forced name is not added for the user
    assert renamed == build(fresh(history), persona="Bo")
    assert any(m.content == "A guest speaks." for m in renamed.messages)
    tight = CharRatioTokenizer(1.5)
    assert build(history, tight) == build(fresh(history), tight)
    included = build(history, tight).breakdown.history_included
    assert included < build(history).breakdown.history_included


def test_an_edited_message_is_a_new_one_and_is_sent_as_edited() -> None:
    history = chat()
    build(history)
    history[-2] = replace(history[-2], text="Edited, now longer than it was before.")
    built = build(history)
    assert built == build(fresh(history))
    assert any(m.content == "Edited, now longer than it was before." for m in built.messages)


@pytest.mark.parametrize("walk", ["note in the chat", "continue prefill", "both"])
def test_walks_with_injections_or_a_skipped_prefill_keep_the_same_memo(walk: str) -> None:
    def build_with(history: list[HistoryMessage], names: int = 0) -> BuiltPrompt:
        note = AuthorsNote("Stay calm.", depth=3) if walk != "continue prefill" else None
        chat = ChatSettings(names_behavior=names, continue_prefill=walk != "note in the chat")
        return assemble(
            PromptInput(
                card=CARD,
                history=history,
                tokenizer=CharRatioTokenizer(),
                persona=Persona("Ann", ""),
                authors_note=note,
                generation_type="normal" if walk == "note in the chat" else "continue",
                settings=PromptSettings(context_size=400, max_reply_tokens=50, chat=chat),
            )
        )

    history = chat()
    build(history)  # the plain walk keeps its memo first
    for names in (0, 2, 0):
        warm = build_with(history, names)
        assert warm == build_with(fresh(history), names)
        assert build_with(history, names) == warm
    texts = [m.content for m in warm.messages]
    assert ("Stay calm." in texts) == (walk != "continue prefill")
    assert sum(t.startswith("Line 39,") for t in texts) == 1  # in the chat or as prefill
    assert build(history) == build(fresh(history))


def test_macros_are_evaluated_on_every_build() -> None:
    history = chat()
    assert any(m.content == "I am Ann, hi Sera." for m in build(history).messages)
    assert any(m.content == "I am Bo, hi Sera." for m in build(history, persona="Bo").messages)


def test_counts_that_may_change_are_not_kept() -> None:
    history, cache = chat(), CountCache()
    estimated = build(history, RecordingTokenizer(cache, CharRatioTokenizer()))
    for message in history:
        cache.put(message.text, 1)
    exact = build(history, RecordingTokenizer(cache, CharRatioTokenizer()))
    assert exact == build(fresh(history), RecordingTokenizer(cache, CharRatioTokenizer()))
    assert exact.breakdown.history_included > estimated.breakdown.history_included


def test_counts_key_names_tokenizers_whose_counts_never_change() -> None:
    assert counts_key(CharRatioTokenizer(2.0)) == counts_key(CharRatioTokenizer(2.0))
    assert counts_key(CharRatioTokenizer(2.0)) != counts_key(CharRatioTokenizer(3.0))
    ratio = CharRatioTokenizer(2.0)
    assert counts_key(CachedTokenizer(ratio)) == counts_key(ratio)
    assert counts_key(OpenAITokenizer("cl100k_base")) != counts_key(OpenAITokenizer("o200k_base"))
    assert counts_key(RecordingTokenizer(CountCache(), ratio)) is None
    assert counts_key(Counted()) is None
    assert counts_key(CachedTokenizer(Counted())) is None
    assert counts_key(CachedTokenizer(KeyedTokenizer(Counted(), "mine"))) == "mine"


def test_example_blocks_are_split_once_and_sent_alike() -> None:
    examples = "<START>\n{{user}}: Hi\n{{char}}: Yo\n<START>\n{{user}}: Ok"
    card = new_card("Sera", mes_example=examples)
    inp = PromptInput(card=card, history=chat(), tokenizer=CharRatioTokenizer())
    first = assemble(inp)
    _block_messages.cache_clear()
    again = assemble(inp)
    assert again == first and first.breakdown.examples_included == 2
    tokens = {part.name: part.tokens for part in first.breakdown.parts}
    sent = [m for m in first.messages if m.name in ("example_user", "example_assistant")]
    assert len(sent) == 3 and tokens["dialogueExamples"] > 0
