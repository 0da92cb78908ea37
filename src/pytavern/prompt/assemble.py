"""The pure prompt builder's entry point: ``assemble(PromptInput) -> BuiltPrompt``.

Chat mode follows SillyTavern's Chat Completion prompt manager; text mode follows its Text
Completion path (story string, examples, chat start, history, last line, stop strings).
Both walk the history newest-first and stop when the budget is spent, so the cost grows
with the context size, not with the length of the chat.
"""

from __future__ import annotations

from pytavern.prompt.chat_builder import build_chat
from pytavern.prompt.inputs import (
    AuthorsNote,
    Breakdown,
    BuiltPrompt,
    ChatSettings,
    HistoryMessage,
    Persona,
    PromptInput,
    PromptItem,
    PromptPart,
    PromptSettings,
    TextSettings,
)
from pytavern.prompt.instruct import clean_output, trim_to_end_sentence
from pytavern.prompt.text_builder import build_text

__all__ = [
    "AuthorsNote",
    "Breakdown",
    "BuiltPrompt",
    "ChatSettings",
    "HistoryMessage",
    "Persona",
    "PromptInput",
    "PromptItem",
    "PromptPart",
    "PromptSettings",
    "TextSettings",
    "assemble",
    "clean_reply",
]


def assemble(inp: PromptInput) -> BuiltPrompt:
    """Build the prompt for one generation."""
    if inp.settings.mode == "text":
        return build_text(inp)
    return build_chat(inp)


def clean_reply(inp: PromptInput, built: BuiltPrompt, text: str) -> str:
    """Clean a generated reply with the stop strings and template the prompt used (and cut
    it after its last complete sentence when the settings ask for that)."""
    cleaned = clean_output(
        text,
        stop=built.stop,
        user=inp.persona.name,
        char=inp.card.name,
        instruct=inp.settings.text.instruct if inp.settings.mode == "text" else None,
        impersonate=inp.generation_type == "impersonate",
    )
    return trim_to_end_sentence(cleaned) if inp.settings.trim_sentences else cleaned
