"""One chat turn: build the prompt, stream from the provider, persist as it streams.

The user's message is kept before any face sees the reply; the reply is written while it
streams (marked ``incomplete``, its first text kept before anyone is shown it: noted in the
store's turn journal and committed right after it is out) and completed when the stream
ends; a reply cut short (stop, upstream error, lost client, crash) keeps what had arrived.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from pytavern.engine.prompting import (
    Prepared,
    PromptJob,
    breakdown_dict,
    build,
    count_and_rebuild,
    remember_history,
    warm_tokenizer,
)
from pytavern.engine.regex_scripts import regex_reply
from pytavern.engine.reply_writer import UNSAVED_MODES, Epilogue, ReplyTarget, ReplyWriter
from pytavern.engine.routing import answer_details, answered_fields, fallback_from
from pytavern.engine.summaries import METADATA_KEY as SUMMARY_KEY
from pytavern.engine.summaries import summary_due, summary_entry
from pytavern.engine.token_ratio import learn_ratio
from pytavern.engine.turn_loader import GenerationMode, TurnData
from pytavern.errors import PytavernError
from pytavern.events import Accumulator, ErrorEvent, Finished, StreamEvent, TextDelta
from pytavern.prompt.assemble import clean_reply
from pytavern.prompt.inputs import GenerationType
from pytavern.prompt.wi_timed import METADATA_KEY as TIMED_KEY
from pytavern.providers.base import Provider
from pytavern.store import AddedMessage, MessageRecord, Queries, Store, SwipeStatus
from pytavern.types import GenerationRequest

DocumentFinder = Callable[[TurnData], Awaitable[None]]
"""Looks up what a turn's prompt takes from the Data Bank (kept in ``TurnData.found``)."""

USER_SAVE_DELAY = 0.025
"""Seconds after the request starts when the user's message is stored on its own, if no
event has come by then; a quicker upstream has it stored with the reply's first text."""

GENERATION_TYPES: dict[GenerationMode, GenerationType] = {
    "send": "normal",
    "regenerate": "regenerate",
    "swipe": "swipe",
    "continue": "continue",
    "impersonate": "impersonate",
    "summarize": "quiet",
}


def prepare_prompt(store: Store, turn: TurnData, provider: Provider) -> Prepared:
    """Build the prompt and request for a loaded turn with the counts at hand (no I/O but
    the store); when it estimated texts the backend can count, ``count_and_rebuild`` makes
    them exact (the usual turn has nothing to ask: history was counted on earlier turns)."""
    job = PromptJob(
        turn=turn, generation_type=GENERATION_TYPES[turn.request.mode], provider=provider
    )
    return build(store, job)


def _final_status(reason: str, error: PytavernError | None) -> SwipeStatus:
    return "incomplete" if error is not None or reason == "cancelled" else "complete"


def _remember_prompt(store: Store, turn: TurnData, prepared: Prepared) -> Epilogue:
    """Keeping the prompt's breakdown (written behind the turn and made when first needed:
    ``pytavern.store.prompt_records``) and the timed World Info state (in the chat's
    metadata, written only when it changed: most turns leave the metadata alone)."""
    built, chat = prepared.built, turn.chat
    counted = prepared.counting.describe()  # now: what counted may count more later
    timed = built.timed_state.to_dict()
    changed = timed != chat.metadata.get(TIMED_KEY)

    def remember(queries: Queries) -> None:
        store.keep_last_prompt(chat.id, lambda: counted | breakdown_dict(built))
        if changed:
            queries.merge_chat_metadata(chat.id, {TIMED_KEY: timed})

    return remember


def _remember_summary(turn: TurnData, text: str, kept: bool) -> Epilogue:
    """Keeping a ``summarize`` turn's answer as the chat's summary when it is ``kept`` (it
    came whole, with text)."""
    newest = turn.last_message
    entry = summary_entry(
        text,
        turn.message_count,
        message_id=newest.id if newest is not None else None,
        replacing=turn.chat.metadata.get(SUMMARY_KEY),
    )

    def remember(queries: Queries) -> None:
        if kept:
            queries.merge_chat_metadata(turn.chat.id, {SUMMARY_KEY: entry})

    return remember


def _learn(store: Store, turn: TurnData, prepared: Prepared, accumulator: Accumulator) -> None:
    """Teach the connection's estimate what the backend said the prompt took."""
    if prepared.counting.estimated_only():
        learn_ratio(store, turn.record, prepared.built, accumulator.usage.input_tokens)


async def run_turn(
    store: Store,
    provider: Provider,
    turn: TurnData,
    *,
    stream_with: Callable[[GenerationRequest], AsyncIterator[StreamEvent]] | None = None,
    find_documents: DocumentFinder | None = None,
) -> AsyncGenerator[StreamEvent, None]:
    """Stream one turn, persisting its result however the stream ends.

    The user's message is stored with the reply's first text (one write), or on its own
    while a slow upstream works, and always kept before the first event is passed on: a
    face that shows any of the reply can rely on both being saved (the first write noted in
    the turn journal and committed when the consumer takes the next event or closes the
    stream; see ``ReplyWriter.first``). ``stream_with`` sends
    the request instead of ``provider.stream`` (key rotation, fallback and the usage
    ledger: ``pytavern.engine.routing``); ``find_documents`` searches the Data Bank by
    meaning before the prompt is built (``databank_vectors.find_for_turn``).
    """
    user = _UserMessage(store, turn)
    try:
        if find_documents is not None:
            await _finding_documents(find_documents, turn, user)
        prepared = await _prepare(store, provider, turn)
    except BaseException:
        user.save()  # kept, whatever failed
        raise
    inp, built, request = prepared.inp, prepared.built, prepared.request
    stream = (stream_with or provider.stream)(request)
    accumulator = Accumulator()
    mode, chat_id = turn.request.mode, turn.chat.id
    target = turn.last_message if mode in ("regenerate", "swipe", "continue") else None
    target_of = ReplyTarget(mode, chat_id, inp.card.name, turn.record.name, target)
    writer = ReplyWriter(store, target_of, on_written=_written(turn))
    persisted: dict[str, Any] = {}
    error: PytavernError | None = None
    finished: Finished | None = None
    started = time.monotonic()
    try:
        event = await _first_event(stream, user, saves_first=provider.family == "local")
        while event is not None:
            accumulator.feed(event)
            if isinstance(event, Finished):
                finished = event
            elif isinstance(event, TextDelta) and writer.saved is None:
                # The reply's first text is kept before any face sees it (with the user's
                # message): noted in the store's turn journal, committed once it is out. A
                # crash after that loses nothing the user was shown.
                if writer.first(accumulator, before=user.pending()):
                    user.stored()
                user.save()  # no-op once stored
                yield event
                writer.settle()
            else:
                user.save()
                yield event
                # Later writes follow the token out, so storing never delays one.
                if isinstance(event, TextDelta):
                    writer.progress(accumulator)
            event = await anext(stream, None)
    except PytavernError as exc:
        error = exc
    finally:
        await _close(stream)
        user.save()  # before the reply: the message comes first in the chat
        reason = accumulator.finish_reason or ("error" if error else "cancelled")
        final_text = clean_reply(inp, built, accumulator.text)
        texts = (final_text, accumulator.reasoning)
        if mode not in UNSAVED_MODES:  # regex scripts (AI output, reasoning)
            texts = regex_reply(
                store,
                turn.chat.character_id,
                turn.card,
                inp.persona.name,
                *texts,
                revision=turn.library_revision,
            )
        final_text = texts[0]
        status = _final_status(reason, error)
        summarizing = mode == "summarize"
        summary_kept = summarizing and status == "complete" and bool(final_text.strip())
        saved = writer.finish(
            accumulator,
            text=final_text,
            status=status,
            outcome={
                "finish_reason": reason,
                "error": str(error) if error else None,
                "reasoning": texts[1],
                **answered_fields(finished),
            },
            epilogue=_remember_summary(turn, final_text, summary_kept)
            if summarizing
            else _remember_prompt(store, turn, prepared),
        )
        persisted = _persisted_info(saved, started) | {"reply": final_text}
        if summarizing:
            persisted["summary_saved"] = summary_kept
        elif saved is not None and status == "complete" and _summary_due(turn):
            persisted["summary_due"] = True
        if answered_fields(finished).get("connection", turn.record.name) == turn.record.name:
            _learn(store, turn, prepared, accumulator)  # not from a fallback's count
    if error is not None:
        yield ErrorEvent(
            message=error.message, kind=error.kind, hint=error.hint, retryable=error.retryable
        )
    reason = finished.reason if finished and error is None else "error"
    model = finished.model if finished else accumulator.model
    answered = answered_fields(finished)
    extra = {"chat_id": chat_id, **persisted, **answered}
    if tried := fallback_from(finished):
        extra["fallback_from"] = tried
    if details := answer_details(finished):
        extra["details"] = details
    yield Finished(reason=reason, model=answered.get("model", model), extra=extra)


async def _finding_documents(find: DocumentFinder, turn: TurnData, user: _UserMessage) -> None:
    """Run the turn's Data Bank lookup; the user's message is stored on a timer meanwhile
    (a lookup through a model that is loading takes seconds)."""
    timer = asyncio.get_running_loop().call_later(USER_SAVE_DELAY, user.save)
    try:
        await find(turn)
    finally:
        timer.cancel()


def _summary_due(turn: TurnData) -> bool:
    """Whether the chat, with the reply a turn saved, is due a new summary (the summary
    settings' ``every``): one rule for every face, which makes the summary when told."""
    count = turn.message_count + (turn.request.mode == "send")  # a send adds the reply
    every = turn.preferences.summary.every
    return summary_due(turn.chat.metadata, count, every)


async def _prepare(store: Store, provider: Provider, turn: TurnData) -> Prepared:
    ensure_loaded = getattr(provider, "ensure_loaded", None)
    if callable(ensure_loaded):
        await ensure_loaded()
    await warm_tokenizer(turn.record)
    prepared = prepare_prompt(store, turn, provider)
    if prepared.counting.wants_counts():  # decided without I/O: no await when not needed
        prepared = await count_and_rebuild(store, prepared)
    remember_history(prepared)
    return prepared


def _written(turn: TurnData) -> Callable[[MessageRecord], None] | None:
    """What applies the turn's committed writes to its chat's cached context."""
    return turn.contexts.written if turn.contexts is not None else None


class _UserMessage:
    """The user's message of a ``send`` turn, stored exactly once."""

    def __init__(self, store: Store, turn: TurnData) -> None:
        self._store = store
        self._turn = turn
        self._pending = turn.user_message is not None
        self._written = _written(turn)

    def save(self) -> None:
        """Store the message now, unless it is stored already (or there is none)."""
        added = self.pending()
        if added is not None:
            with self._store.queries() as queries:
                (record,) = queries.append_messages(self._turn.chat.id, [added])
            self._pending = False
            if self._written is not None:
                self._written(record)

    def pending(self) -> AddedMessage | None:
        """The message while it is not stored, for another write to add (``stored`` once
        that write is committed)."""
        message = self._turn.user_message
        if self._pending and message is not None:
            return AddedMessage("user", message.name, message.text)
        return None

    def stored(self) -> None:
        """Note that the write that took ``pending`` was committed."""
        self._pending = False


async def _first_event(
    stream: AsyncIterator[StreamEvent], user: _UserMessage, *, saves_first: bool
) -> StreamEvent | None:
    """The stream's first event; the user's message is stored on a timer meanwhile.

    A quick upstream answers before ``USER_SAVE_DELAY`` and the message is stored with the
    reply's first text; a slow one (a long prompt, a queue) has it stored while it works. A
    backend without a request to send (``saves_first``: the built-in model) gets it stored
    before it starts. Whatever fails here, the message is kept.
    """
    if saves_first:
        user.save()
    timer = asyncio.get_running_loop().call_later(USER_SAVE_DELAY, user.save)
    try:
        return await anext(stream, None)
    except BaseException:
        user.save()  # kept, whatever failed (a failed save is not retried)
        raise
    finally:
        timer.cancel()


async def _close(stream: AsyncIterator[StreamEvent]) -> None:
    """Close a provider stream early so its upstream request is released."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


def _persisted_info(saved: MessageRecord | None, started: float) -> dict[str, Any]:
    info: dict[str, Any] = {"seconds": round(time.monotonic() - started, 3)}
    if saved is not None:
        info |= {"message_id": saved.id, "swipe_index": saved.active_swipe}
    return info
