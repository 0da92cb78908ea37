"""Turning a turn's data into the prompt builder's input, and its output into a request.

Takes what ``turn_loader`` read (card, persona, lorebooks, stored templates, newest
messages), picks chat or text mode from the provider's family, the templates and a tokenizer
for the backend, then calls the pure ``assemble``.

Tokenizers: the built-in model's own vocabulary, OpenAI's BPE for OpenAI-style APIs (both in
process), else the backend's tokenizer through ``Provider.count_tokens`` with the counts
cached (``token_counts``): a build estimates what the cache lacks and, when it lacked
something, ``count_and_rebuild`` asks the backend and builds again. Estimates use the
connection's learned characters-per-token ratio (``token_ratio``).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pytavern.engine import prompt_defaults, token_counts
from pytavern.engine.chat_context import SLACK
from pytavern.engine.chat_options import chat_author_note
from pytavern.engine.databank import with_databank
from pytavern.engine.history import StoredHistory
from pytavern.engine.preferences import DEFAULT_MAX_TOKENS, sampling_for
from pytavern.engine.prompt_shown import prompt_shown
from pytavern.engine.recall import with_recall
from pytavern.engine.regex_scripts import lore_rewrite, prompt_history, prompt_scripts
from pytavern.engine.summaries import summary_input, summary_prompt
from pytavern.engine.token_counts import Counting, remote_counts
from pytavern.engine.token_ratio import stored_ratio
from pytavern.engine.turn_loader import TurnData
from pytavern.formats.presets import ContextTemplate, InstructTemplate, bundled_names, load_bundled
from pytavern.prompt.assemble import assemble
from pytavern.prompt.inputs import (
    AuthorsNote,
    BuiltPrompt,
    GenerationType,
    PromptInput,
)
from pytavern.prompt.macros import MacroContext
from pytavern.prompt.tokens import (
    CachedTokenizer,
    CharRatioTokenizer,
    KeyedTokenizer,
    OpenAITokenizer,
    RecordingTokenizer,
    Tokenizer,
    openai_encoding,
)
from pytavern.prompt.wi_timed import METADATA_KEY as TIMED_KEY
from pytavern.prompt.wi_timed import TimedState
from pytavern.prompt.worldinfo import ActivatedEntry
from pytavern.providers import ApiTypesWhere
from pytavern.providers.base import Provider
from pytavern.store import ConnectionRecord, Store
from pytavern.types import GenerationRequest, SamplerSettings

ROLE_CODES = {"system": 0, "user": 1, "assistant": 2}
OPENAI_TOKENIZED = ApiTypesWhere(lambda spec: spec.tokenizer == "openai-bpe")
"""API types counted with OpenAI's BPE, as their specs declare."""
PREFILL_APIS = ApiTypesWhere(lambda spec: spec.capabilities.prefill)
"""API types that continue a final assistant message, as their specs declare."""


@dataclass(frozen=True, slots=True)
class PromptJob:
    """What the engine knows about one prompt to build."""

    turn: TurnData
    generation_type: GenerationType
    provider: Provider


def pick_instruct(
    stored: InstructTemplate | None, name: str | None, model: str
) -> InstructTemplate:
    """The chosen instruct template (stored, else bundled by that name), else the bundled one
    whose activation regex matches the model name, else ChatML."""
    if stored is not None:
        return stored
    if name and name in bundled_names("instruct"):
        return _bundled_instruct(name)
    for bundled in bundled_names("instruct"):
        template = _bundled_instruct(bundled)
        pattern = template.activation_regex
        if pattern and model and re.search(pattern, model, re.IGNORECASE):
            return template
    return _bundled_instruct("ChatML")


def _bundled_instruct(name: str) -> InstructTemplate:
    template = load_bundled("instruct", name)
    assert isinstance(template, InstructTemplate)
    return template


def pick_context(stored: ContextTemplate | None, name: str) -> ContextTemplate:
    """The chosen context template (stored, else bundled by that name), else the default."""
    if stored is not None:
        return stored
    if name in bundled_names("context"):
        template = load_bundled("context", name)
        assert isinstance(template, ContextTemplate)
        return template
    return ContextTemplate()


def _openai_encoding(record: ConnectionRecord) -> str | None:
    """The BPE encoding that counts for ``record`` (``None``: not an OpenAI model)."""
    if record.api not in OPENAI_TOKENIZED:
        return None
    return openai_encoding(record.model or "gpt-4o", openai_api=record.api == "openai")


def _openai_tokenizer(encoding: str) -> Tokenizer:
    """One cached tokenizer per encoding for the process (its counts are kept too)."""
    tokenizer = _openai_tokenizers.get(encoding)
    if tokenizer is None:
        tokenizer = _openai_tokenizers[encoding] = CachedTokenizer(OpenAITokenizer(encoding))
    return tokenizer


_openai_tokenizers: dict[str, Tokenizer] = {}


class _ProviderTokenizer:
    """Counts with a provider's own synchronous tokenizer (the built-in model's vocab)."""

    def __init__(self, count: Callable[[str], int]) -> None:
        self._count = count

    def count(self, text: str) -> int:
        return self._count(text)


async def warm_tokenizer(record: ConnectionRecord) -> None:
    """Load a BPE tokenizer off the event loop (its tables take seconds to load once)."""
    encoding = _openai_encoding(record)
    if encoding is not None and encoding not in _openai_tokenizers:
        await asyncio.to_thread(_openai_tokenizer, encoding)


def pick_counting(record: ConnectionRecord, provider: Provider) -> Counting:
    """The best tokenizer for the connection: the local model's own, OpenAI's BPE for
    OpenAI-style APIs, else the backend's cached counts with the learned estimate for the
    rest (only the estimate when the backend cannot count). An OpenAI-style API serving
    another vendor's model is counted with the learned estimate (see ``openai_encoding``)."""
    encoding = _openai_encoding(record)
    if encoding is not None:
        return Counting(_openai_tokenizer(encoding), "openai-bpe")
    count_sync = _sync_counter(provider)
    if count_sync is not None:
        own = KeyedTokenizer(_ProviderTokenizer(count_sync), ("local", _serial(provider)))
        return Counting(CachedTokenizer(own), "local model")
    ratio = stored_ratio(record.options)
    estimate = CharRatioTokenizer(ratio)
    remote = remote_counts(provider) if callable(getattr(provider, "count_tokens", None)) else None
    if remote is None or not remote.supported:
        return Counting(estimate, "estimate", ratio)
    return Counting(RecordingTokenizer(remote.cache, estimate), "backend", ratio, remote)


def _sync_counter(provider: Provider) -> Callable[[str], int] | None:
    """The provider's ``count_tokens_sync`` when it is a ``SyncTokenCounter``: looked up as
    that protocol's ``isinstance`` does, without its cost (~10 us, on every turn)."""
    count: Callable[[str], int] | None = getattr(provider, "count_tokens_sync", None)
    return count if callable(count) else None


def _serial(provider: Provider) -> int:
    """A number naming ``provider`` for its life and never reused (a provider serves one
    model: counts with its vocabulary are kept between builds under this name)."""
    serial = _serials.get(provider)
    if serial is None:
        serial = _serials[provider] = next(_next_serial)
    return serial


_serials: weakref.WeakKeyDictionary[Provider, int] = weakref.WeakKeyDictionary()
_next_serial = itertools.count()


def pick_tokenizer(record: ConnectionRecord, provider: Provider) -> Tokenizer:
    """The tokenizer ``pick_counting`` chooses (synchronous: cached backend counts or the
    estimate for texts not counted yet)."""
    return pick_counting(record, provider).tokenizer


def context_size(job: PromptJob) -> int:
    """The context to fill: the preference, capped by what the backend can hold."""
    limit = getattr(job.provider, "context_limit", None)
    size = job.turn.preferences.context_size
    return min(size, limit) if isinstance(limit, int) and limit > 0 else size


def build_prompt_input(
    store: Store, job: PromptJob, tokenizer: Tokenizer, sampling: SamplerSettings | None = None
) -> PromptInput:
    """Everything ``assemble`` needs for this job (only older history pages are read);
    ``sampling``: the samplers when already resolved."""
    turn = job.turn
    prefs = turn.preferences
    sampling = sampling or sampling_for(prefs, turn.record)
    text_mode = job.provider.family == "text"
    chat_settings = prompt_defaults.chat_settings(turn.record.api in PREFILL_APIS)
    if prefs.system_prompt:
        chat_settings = replace(chat_settings, main_prompt=prefs.system_prompt)
    settings = prompt_defaults.prompt_settings(
        store,
        prefs,
        chat_settings,
        prompt_defaults.text_settings(store, turn) if text_mode else None,
        context_size=context_size(job),
        max_reply_tokens=sampling.max_tokens or DEFAULT_MAX_TOKENS,
    )
    note = chat_author_note(turn.chat.metadata, prefs.author_note)
    summary = summary_input(turn.chat.metadata, prefs.summary)
    scripts = prompt_scripts(
        store,
        turn.chat.character_id,
        turn.card,
        turn.persona.name,
        revision=turn.library_revision,
    )
    return PromptInput(
        card=turn.card,
        history=prompt_history(_history(store, turn), scripts),
        tokenizer=tokenizer,
        persona=turn.persona,
        lorebooks=turn.lorebooks,
        authors_note=AuthorsNote(
            text=note.text, depth=note.depth, frequency=note.frequency, role=ROLE_CODES[note.role]
        )
        if note.text
        else None,
        summary=summary,
        generation_type=job.generation_type,
        quiet_prompt=summary_prompt(prefs.summary) if job.generation_type == "quiet" else "",
        settings=settings,
        macros=MacroContext(
            user=turn.persona.name,
            model=turn.record.model or "",
            chat_id=str(turn.chat.id),
            group=turn.request.speaker.group_names or None if turn.request.speaker else None,
            extra={"summary": summary.text if summary is not None else ""},
        ),
        timed_state=TimedState.from_dict(turn.chat.metadata.get(TIMED_KEY)),
        lore_rewrite=lore_rewrite(scripts),
    )


def _history(store: Store, turn: TurnData) -> StoredHistory:
    """The chat as the builder reads it: the cached newest messages (and the user's message
    not stored yet), then older pages from the store."""
    if turn.cached is None:
        return StoredHistory(store, turn.chat.id, turn.message_count, newest=turn.newest)
    pending = [turn.user_message] if turn.user_message is not None else []
    return StoredHistory(
        store, turn.chat.id, turn.message_count, newest=pending, cached=turn.cached
    )


def remember_history(prepared: Prepared) -> None:
    """Keep what the build read of the chat's history for the next turns (see
    ``chat_context``); nothing is stored yet, so the turn's revision still names it."""
    turn, history = prepared.job.turn, prepared.inp.history
    if turn.cached is None or turn.contexts is None or not isinstance(history, StoredHistory):
        return
    cached = turn.cached
    held = len(cached.records)
    skip = 1 if turn.user_message is not None else 0
    read = history.depth() - skip
    paged = history.held() - skip > held
    if not paged and abs(cached.limit - (read + SLACK)) <= SLACK // 2:
        return  # nothing new to keep, and the limit still fits what prompts read
    older, older_views = history.loaded(skip + held)
    turn.contexts.put(cached.reshaped(older, older_views, read))


def request_from_prompt(
    built: BuiltPrompt,
    job: PromptJob,
    sampling: SamplerSettings,
    size: int,
    banned: Sequence[str] = (),
) -> GenerationRequest:
    """The provider request for a built prompt: its stop strings added to the user's, and
    the words its ``{{banned "word"}}`` macros named to the banned tokens of backends that
    take them (SillyTavern bans them on text backends only)."""
    stop = list(dict.fromkeys([*(sampling.stop or []), *built.stop]))
    update: dict[str, Any] = {"stop": stop or None}
    if banned and "banned_tokens" in job.provider.supported_samplers():
        update["banned_tokens"] = list(dict.fromkeys([*(sampling.banned_tokens or []), *banned]))
    return GenerationRequest(
        messages=built.messages,
        model=job.turn.record.model,
        sampling=sampling.model_copy(update=update),
        prompt=built.text,
        prefill=built.prefill,
        context_size=size,
    )


@dataclass(frozen=True, slots=True)
class Prepared:
    """One built prompt: the builder's input and output, the request, how it was counted."""

    job: PromptJob
    inp: PromptInput
    built: BuiltPrompt
    request: GenerationRequest
    counting: Counting


MAX_REBUILDS = 2
"""Builds after the first: exact counts can let in history whose counts are not known yet."""


def turn_sampling(job: PromptJob) -> SamplerSettings:
    """The samplers of a turn: the connection's, with a summary's own reply length."""
    prefs = job.turn.preferences
    sampling = sampling_for(prefs, job.turn.record)
    if job.generation_type == "quiet" and prefs.summary.max_tokens > 0:
        return sampling.model_copy(update={"max_tokens": prefs.summary.max_tokens})
    return sampling


def build(store: Store, job: PromptJob, counting: Counting | None = None) -> Prepared:
    """Build the prompt and the request for one job (with ``counting``, else the best
    tokenizer at hand)."""
    counting = counting or pick_counting(job.turn.record, job.provider)
    sampling = turn_sampling(job)
    inp = build_prompt_input(store, job, counting.tokenizer, sampling)
    if job.generation_type != "quiet":
        inp = _with_documents(store, job.turn, inp)
    built = assemble(inp)
    if job.generation_type != "quiet" and (
        recalled := with_recall(store, job.turn.chat.id, job.turn.preferences.recall, inp, built)
    ):
        inp, built = recalled, assemble(recalled)  # what was recalled takes history's room
    size = inp.settings.context_size
    request = request_from_prompt(built, job, sampling, size, inp.macros.banned_words)
    return Prepared(job, inp, built, request, counting)


def _with_documents(store: Store, turn: TurnData, inp: PromptInput) -> PromptInput:
    """``inp`` with what the Data Bank's documents in reach of the chat hold on its newest
    messages (the speaking member's and joined members' documents in a group)."""
    return with_databank(
        store,
        inp,
        turn.preferences.databank,
        chat_id=turn.chat.id,
        character_ids=turn.characters,
        revision=turn.library_revision,
        found=turn.found.texts,
    )


async def count_and_rebuild(store: Store, prepared: Prepared) -> Prepared:
    """Count what the build estimated through the backend and build again, while it missed
    counts, within ``token_counts.COUNT_TIMEOUT`` in all; on failure keep the last build."""
    deadline = time.monotonic() + token_counts.COUNT_TIMEOUT
    remote = prepared.counting.remote
    for _ in range(MAX_REBUILDS):
        left = deadline - time.monotonic()
        if remote is None or not prepared.counting.wants_counts() or left <= 0:
            break
        if not await remote.fill(prepared.job.provider, prepared.counting.missed(), left):
            break
        prepared = build(store, prepared.job, prepared.counting.fresh())
    return prepared


def breakdown_dict(built: BuiltPrompt, counting: Counting | None = None) -> dict[str, Any]:
    """A JSON-ready summary of where the prompt's tokens went, which lore fired and (given
    ``counting``) which tokenizer counted."""
    b = built.breakdown
    return {
        **(counting.describe() if counting is not None else {}),
        "parts": [{"name": part.name, "tokens": part.tokens} for part in b.parts],
        "budget": b.budget,
        "total_tokens": b.total_tokens,
        "history": {"included": b.history_included, "total": b.history_total},
        "examples": {"included": b.examples_included, "total": b.examples_total},
        "lore": [_lore_dict(entry) for entry in b.lore],
        "cut": list(b.cut),
        "prompt": prompt_shown(built),
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
