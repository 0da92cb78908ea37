"""Putting earlier messages of a long chat back into its prompt (``RecallSettings``).

Once a chat is longer than its context holds, the prompt loses its oldest messages. With
recall on, the words of the newest messages are looked up in the rest of the chat
(``pytavern.store.recall``: the search index, best match first), and the messages found go
into the prompt as SillyTavern's Vector Storage puts them (``3_vectors``). It runs on the
machine's own index: no embedding model, no network.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pytavern.engine.preferences import RecallSettings
from pytavern.engine.summaries import POSITIONS
from pytavern.prompt.inputs import BuiltPrompt, HistoryMessage, PromptInput, Recall
from pytavern.prompt.worldinfo import ROLES
from pytavern.store import Store
from pytavern.store.recall import RecalledMessage, recall_messages

MAX_QUERY_WORDS = 32
MIN_WORD_LENGTH = 3
_WORD = re.compile(r"\w+", re.UNICODE)
_COMMON = (
    "the and for are but not you your yours all any can had her was one our out has him his "
    "how its may new now see two who did get she too use that with have this will from they "
    "what were when which their there been would could should about into than then them "
    "these those some just like only also very over such here where while after before"
)
COMMON_WORDS = frozenset(_COMMON.split())
"""English words too common to tell messages apart (the ranking weighs the rest)."""


def recall_words(history: Sequence[HistoryMessage], count: int) -> list[str]:
    """The query: distinct words (``MIN_WORD_LENGTH`` letters or more, not in
    ``COMMON_WORDS``) of the newest ``count`` messages the prompt may show, newest first,
    at most ``MAX_QUERY_WORDS``."""
    words: dict[str, None] = {}
    taken = 0
    for index in range(len(history) - 1, -1, -1):
        if taken == count or len(words) >= MAX_QUERY_WORDS:
            break
        message = history[index]
        if message.is_system:
            continue
        taken += 1
        for word in _WORD.findall(message.text.lower()):
            if len(word) >= MIN_WORD_LENGTH and word not in COMMON_WORDS:
                words.setdefault(word)
    return list(words)[:MAX_QUERY_WORDS]


def with_recall(
    store: Store, chat_id: int, settings: RecallSettings, inp: PromptInput, built: BuiltPrompt
) -> PromptInput | None:
    """``inp`` with the recalled messages, or ``None`` when recall is off or finds none
    among the messages ``built`` left out of its history."""
    if not settings.enabled:
        return None
    before = len(inp.history) - built.breakdown.history_included
    words = recall_words(inp.history, settings.query_messages) if before > 0 else []
    if not words:
        return None
    found = recall_messages(store.engine, chat_id, words, before=before, limit=settings.results)
    if not found:
        return None
    recall = Recall(
        texts=tuple(_line(message) for message in sorted(found, key=lambda m: m.position)),
        template=settings.template,
        position=POSITIONS[settings.position],
        depth=settings.depth,
        role=ROLES.index(settings.role),
    )
    return replace(inp, recall=recall)


def _line(message: RecalledMessage) -> str:
    return f"{message.name}: {message.text}" if message.name else message.text
