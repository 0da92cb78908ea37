"""Turning stored data into the prompt builder's input, and its output into a request.

Loads the card, persona, lorebooks (global, the character's own and linked, the chat's and
the persona's), templates and timed World Info state; picks chat or text mode from the
provider's family and a tokenizer for the backend; then calls the pure ``assemble``.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from pytavern.engine.history import StoredHistory
from pytavern.engine.preferences import DEFAULT_MAX_TOKENS, GenerationPreferences, sampling_for
from pytavern.errors import NotFoundError
from pytavern.formats.cards import Card, card_from_dict
from pytavern.formats.presets import (
    ContextTemplate,
    InstructTemplate,
    PresetKind,
    bundled_names,
    load_bundled,
)
from pytavern.formats.worldinfo import Lorebook, lorebook_from_character_book, lorebook_from_dict
from pytavern.prompt.assemble import assemble
from pytavern.prompt.inputs import (
    AuthorsNote,
    BuiltPrompt,
    ChatSettings,
    GenerationType,
    Persona,
    PromptInput,
    PromptSettings,
    TextSettings,
)
from pytavern.prompt.macros import MacroContext
from pytavern.prompt.tokens import CachedTokenizer, CharRatioTokenizer, OpenAITokenizer, Tokenizer
from pytavern.prompt.wi_timed import TimedState
from pytavern.prompt.worldinfo import ActivatedEntry, WorldInfoSources
from pytavern.providers.base import Provider
from pytavern.store import ChatRecord, ConnectionRecord, Store
from pytavern.types import GenerationRequest, SamplerSettings

ROLE_CODES = {"system": 0, "user": 1, "assistant": 2}
OPENAI_TOKENIZED = frozenset({"openai", "openrouter", "custom"})
PREFILL_APIS = frozenset({"claude", "local"})


@dataclass(frozen=True, slots=True)
class PromptJob:
    """What the engine knows about one prompt to build."""

    chat: ChatRecord
    card: dict[str, Any]
    generation_type: GenerationType
    record: ConnectionRecord
    provider: Provider
    preferences: GenerationPreferences


def load_persona(store: Store, preferences: GenerationPreferences) -> tuple[Persona, str | None]:
    """The persona in use (the chosen one, else the default, else "User") and its lorebook."""
    record = None
    if preferences.persona_id is not None:
        try:
            record = store.get_persona(preferences.persona_id)
        except NotFoundError:
            record = None
    record = record or store.default_persona()
    if record is None:
        return Persona(), None
    persona = Persona(record.name, record.description, record.position, record.depth, record.role)
    return persona, record.lorebook


def _stored_book(store: Store, name: str | None) -> list[Lorebook]:
    if not name:
        return []
    try:
        stored = store.get_lorebook(name)
    except NotFoundError:
        return []
    return [lorebook_from_dict(stored.data, stored.name)]


def load_lorebooks(
    store: Store, card: Card, chat: ChatRecord, persona_book: str | None, global_names: list[str]
) -> WorldInfoSources:
    """The lorebooks in play for a chat."""
    character: list[Lorebook] = []
    if card.character_book:
        character.append(lorebook_from_character_book(card.character_book, f"{card.name} (card)"))
    character += _stored_book(store, card.world)
    chat_book = chat.metadata.get("world_info")
    return WorldInfoSources(
        global_books=[book for name in global_names for book in _stored_book(store, name)],
        character_books=character,
        chat_books=_stored_book(store, chat_book if isinstance(chat_book, str) else None),
        persona_books=_stored_book(store, persona_book),
    )


def load_template(store: Store, kind: PresetKind, name: str) -> dict[str, Any] | None:
    """A user's template of that name, else the bundled one, else ``None``."""
    stored = store.get_preset(kind, name)
    if stored is not None:
        return stored.data
    if name in bundled_names(kind):
        return load_bundled(kind, name).to_dict()
    return None


def pick_instruct(store: Store, preferences: GenerationPreferences, model: str) -> InstructTemplate:
    """The chosen instruct template, else the bundled one whose activation regex matches the
    model name, else ChatML."""
    if preferences.instruct_template:
        data = load_template(store, "instruct", preferences.instruct_template)
        if data is not None:
            return InstructTemplate.from_dict(data)
    for name in bundled_names("instruct"):
        template = load_bundled("instruct", name)
        assert isinstance(template, InstructTemplate)
        pattern = template.activation_regex
        if pattern and model and re.search(pattern, model, re.IGNORECASE):
            return template
    chatml = load_bundled("instruct", "ChatML")
    assert isinstance(chatml, InstructTemplate)
    return chatml


@lru_cache(maxsize=8)
def _openai_tokenizer(model: str) -> Tokenizer:
    return CachedTokenizer(OpenAITokenizer.for_model(model))


class _ProviderTokenizer:
    """Counts with a provider's own synchronous tokenizer (the built-in model's vocab)."""

    def __init__(self, count: Any) -> None:
        self._count = count

    def count(self, text: str) -> int:
        return int(self._count(text))


async def warm_tokenizer(record: ConnectionRecord) -> None:
    """Load a BPE tokenizer off the event loop (its tables take seconds to load once)."""
    if record.api in OPENAI_TOKENIZED:
        await asyncio.to_thread(_openai_tokenizer, record.model or "gpt-4o")


def pick_tokenizer(record: ConnectionRecord, provider: Provider) -> Tokenizer:
    """The best tokenizer available offline: the local model's own, OpenAI's BPE for
    OpenAI-style APIs, otherwise SillyTavern's measured 3.35 characters per token."""
    count = getattr(provider, "count_tokens", None)
    if callable(count) and not inspect.iscoroutinefunction(count):
        return CachedTokenizer(_ProviderTokenizer(count))
    if record.api in OPENAI_TOKENIZED:
        return _openai_tokenizer(record.model or "gpt-4o")
    return CharRatioTokenizer()


def context_size(job: PromptJob) -> int:
    """The context to fill: the preference, capped by what the backend can hold."""
    limit = getattr(job.provider, "context_limit", None)
    size = job.preferences.context_size
    return min(size, limit) if isinstance(limit, int) and limit > 0 else size


def build_prompt_input(store: Store, job: PromptJob, tokenizer: Tokenizer) -> PromptInput:
    """Everything ``assemble`` needs for this job."""
    prefs = job.preferences
    card = card_from_dict(job.card, filename=str(job.card.get("name") or "card"))
    persona, persona_book = load_persona(store, prefs)
    sampling = sampling_for(prefs, job.record)
    text_mode = job.provider.family == "text"
    chat_settings = ChatSettings(continue_prefill=job.record.api in PREFILL_APIS)
    if prefs.system_prompt:
        chat_settings = replace(chat_settings, main_prompt=prefs.system_prompt)
    settings = PromptSettings(
        mode="text" if text_mode else "chat",
        context_size=context_size(job),
        max_reply_tokens=sampling.max_tokens or DEFAULT_MAX_TOKENS,
        system_prompt=prefs.system_prompt,
        chat=chat_settings,
        text=_text_settings(store, prefs, job.record) if text_mode else TextSettings(),
    )
    note = prefs.author_note
    return PromptInput(
        card=card,
        history=StoredHistory(store, job.chat.id, job.chat.message_count),
        tokenizer=tokenizer,
        persona=persona,
        lorebooks=load_lorebooks(store, card, job.chat, persona_book, prefs.world_info),
        authors_note=AuthorsNote(
            text=note.text, depth=note.depth, frequency=note.frequency, role=ROLE_CODES[note.role]
        )
        if note.text
        else None,
        generation_type=job.generation_type,
        settings=settings,
        macros=MacroContext(
            user=persona.name, model=job.record.model or "", chat_id=str(job.chat.id)
        ),
        timed_state=TimedState.from_dict(job.chat.metadata.get("timedWorldInfo")),
    )


def _text_settings(
    store: Store, prefs: GenerationPreferences, record: ConnectionRecord
) -> TextSettings:
    context_data = load_template(store, "context", prefs.context_template)
    context = ContextTemplate.from_dict(context_data) if context_data else ContextTemplate()
    return TextSettings(instruct=pick_instruct(store, prefs, record.model or ""), context=context)


def request_from_prompt(
    built: BuiltPrompt, job: PromptJob, sampling: SamplerSettings, size: int
) -> GenerationRequest:
    """The provider request for a built prompt: its stop strings added to the user's."""
    stop = list(dict.fromkeys([*(sampling.stop or []), *built.stop]))
    return GenerationRequest(
        messages=built.messages,
        model=job.record.model,
        sampling=sampling.model_copy(update={"stop": stop or None}),
        prompt=built.text,
        prefill=built.prefill,
        context_size=size,
    )


def build(store: Store, job: PromptJob) -> tuple[PromptInput, BuiltPrompt, GenerationRequest]:
    """Build the prompt and the request for one job."""
    tokenizer = pick_tokenizer(job.record, job.provider)
    inp = build_prompt_input(store, job, tokenizer)
    built = assemble(inp)
    sampling = sampling_for(job.preferences, job.record)
    return inp, built, request_from_prompt(built, job, sampling, inp.settings.context_size)


def breakdown_dict(built: BuiltPrompt) -> dict[str, Any]:
    """A JSON-ready summary of where the prompt's tokens went and which lore fired."""
    b = built.breakdown
    return {
        "parts": [{"name": part.name, "tokens": part.tokens} for part in b.parts],
        "budget": b.budget,
        "total_tokens": b.total_tokens,
        "history": {"included": b.history_included, "total": b.history_total},
        "examples": {"included": b.examples_included, "total": b.examples_total},
        "lore": [_lore_dict(entry) for entry in b.lore],
        "cut": list(b.cut),
    }


def _lore_dict(activated: ActivatedEntry) -> dict[str, Any]:
    entry = activated.entry
    return {
        "book": entry.book,
        "uid": entry.uid,
        "comment": entry.comment,
        "keys": list(entry.keys),
        "reason": activated.reason,
        "content": activated.content,
    }
