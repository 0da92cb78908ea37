"""One chat turn: build the prompt, stream from the provider, persist as it streams.

The user's message is committed before generation starts; the reply is written while it
streams (marked ``incomplete``) and completed when the stream ends; a reply cut short (stop,
upstream error, lost client, crash) keeps what had arrived.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pytavern.engine.preferences import load_preferences
from pytavern.engine.prompting import (
    PromptJob,
    breakdown_dict,
    build,
    load_persona,
    warm_tokenizer,
)
from pytavern.engine.reply_writer import ReplyTarget, ReplyWriter
from pytavern.errors import ConfigError, PytavernError
from pytavern.events import Accumulator, ErrorEvent, Finished, StreamEvent, TextDelta
from pytavern.prompt.assemble import clean_reply
from pytavern.prompt.inputs import BuiltPrompt, GenerationType, PromptInput
from pytavern.providers.base import Provider
from pytavern.store import ConnectionRecord, MessageRecord, Store, SwipeStatus

GenerationMode = Literal["send", "regenerate", "swipe", "continue", "impersonate"]
GENERATION_TYPES: dict[GenerationMode, GenerationType] = {
    "send": "normal",
    "regenerate": "regenerate",
    "swipe": "swipe",
    "continue": "continue",
    "impersonate": "impersonate",
}


@dataclass(slots=True)
class TurnPlan:
    """What one turn generates and where its result goes."""

    mode: GenerationMode
    chat_id: int
    target: MessageRecord | None = None
    persisted: dict[str, Any] = field(default_factory=dict)


def plan_turn(store: Store, chat_id: int, mode: GenerationMode, text: str | None) -> TurnPlan:
    """Check the mode against the chat and commit the user's message when there is one."""
    if mode == "send" and text:
        persona, _book = load_persona(store, load_preferences(store))
        store.append_message(chat_id, role="user", name=persona.name, text=text)
    last = store.last_message(chat_id)
    if mode in ("regenerate", "swipe", "continue"):
        if last is None or last.role != "assistant":
            raise ConfigError(
                f"there is no reply to {mode}",
                hint="Send a message first; regenerate, swipe and continue work on the last reply",
            )
        return TurnPlan(mode, chat_id, target=last)
    return TurnPlan(mode, chat_id)


def prepare_prompt(
    store: Store, plan: TurnPlan, card: dict[str, Any], record: ConnectionRecord, provider: Provider
) -> tuple[PromptInput, BuiltPrompt, Any]:
    """Build the prompt and request for a planned turn."""
    job = PromptJob(
        chat=store.get_chat(plan.chat_id),
        card=card,
        generation_type=GENERATION_TYPES[plan.mode],
        record=record,
        provider=provider,
        preferences=load_preferences(store),
    )
    return build(store, job)


def _final_status(reason: str, error: PytavernError | None) -> SwipeStatus:
    return "incomplete" if error is not None or reason == "cancelled" else "complete"


def _remember_prompt(store: Store, chat_id: int, built: BuiltPrompt) -> None:
    chat = store.get_chat(chat_id)
    metadata = dict(chat.metadata)
    metadata["timedWorldInfo"] = built.timed_state.to_dict()
    metadata["last_prompt"] = breakdown_dict(built)
    store.update_chat(chat_id, metadata=metadata)


async def run_turn(
    store: Store,
    provider: Provider,
    plan: TurnPlan,
    *,
    card: dict[str, Any],
    record: ConnectionRecord,
) -> AsyncGenerator[StreamEvent, None]:
    """Stream one turn, persisting its result however the stream ends."""
    ensure_loaded = getattr(provider, "ensure_loaded", None)
    if callable(ensure_loaded):
        await ensure_loaded()
    await warm_tokenizer(record)
    inp, built, request = prepare_prompt(store, plan, card, record, provider)
    accumulator = Accumulator()
    writer = ReplyWriter(
        store, ReplyTarget(plan.mode, plan.chat_id, inp.card.name, record.name, plan.target)
    )
    error: PytavernError | None = None
    finished: Finished | None = None
    stream = provider.stream(request)
    started = time.monotonic()
    try:
        async for event in stream:
            accumulator.feed(event)
            if isinstance(event, Finished):
                finished = event
                continue
            yield event
            # Written after the face has the text, so storing never delays a token.
            if isinstance(event, TextDelta):
                writer.progress(accumulator)
    except PytavernError as exc:
        error = exc
    finally:
        await _close(stream)
        reason = accumulator.finish_reason or ("error" if error else "cancelled")
        final_text = clean_reply(inp, built, accumulator.text)
        saved = writer.finish(
            accumulator,
            text=final_text,
            status=_final_status(reason, error),
            outcome={"finish_reason": reason, "error": str(error) if error else None},
        )
        plan.persisted = _persisted_info(saved, started) | {"reply": final_text}
        _remember_prompt(store, plan.chat_id, built)
    if error is not None:
        yield ErrorEvent(
            message=error.message, kind=error.kind, hint=error.hint, retryable=error.retryable
        )
    reason = finished.reason if finished and error is None else "error"
    model = finished.model if finished else accumulator.model
    yield Finished(reason=reason, model=model, extra={"chat_id": plan.chat_id, **plan.persisted})


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
