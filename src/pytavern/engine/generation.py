"""One chat turn: load what the prompt needs, stream from the provider, persist.

The user's message is committed before generation starts; the reply is committed when the
stream ends; a reply cut short (stop, upstream error, lost client) is kept, marked
``incomplete``, with what had arrived.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pytavern.engine.preferences import (
    DEFAULT_MAX_TOKENS,
    GenerationPreferences,
    load_preferences,
    sampling_for,
)
from pytavern.engine.reply_writer import ReplyTarget, ReplyWriter
from pytavern.errors import ConfigError, PytavernError
from pytavern.events import (
    Accumulator,
    ErrorEvent,
    Finished,
    StreamEvent,
    TextDelta,
)
from pytavern.prompt.basic import HistoryItem, build_messages, card_fields
from pytavern.providers.base import Provider
from pytavern.store import ConnectionRecord, MessageRecord, Store, SwipeStatus
from pytavern.types import GenerationRequest, Role

GenerationMode = Literal["send", "regenerate", "swipe", "continue", "impersonate"]
HISTORY_WINDOW = 400


@dataclass(slots=True)
class TurnPlan:
    """What one turn generates and where its result goes."""

    mode: GenerationMode
    chat_id: int
    history: list[MessageRecord]
    target: MessageRecord | None = None
    prefill: str | None = None
    persisted: dict[str, Any] = field(default_factory=dict)


def _role(record: MessageRecord) -> Role:
    return "user" if record.role == "user" else "system" if record.role == "system" else "assistant"


def plan_turn(store: Store, chat_id: int, mode: GenerationMode, text: str | None) -> TurnPlan:
    """Check the mode against the chat and commit the user's message when there is one."""
    if mode == "send" and text:
        store.append_message(chat_id, role="user", name="", text=text)
    history = store.history(chat_id, limit=HISTORY_WINDOW)
    last = history[-1] if history else None
    if mode in ("regenerate", "swipe", "continue"):
        if last is None or last.role != "assistant":
            raise ConfigError(
                f"there is no reply to {mode}",
                hint="Send a message first; regenerate, swipe and continue work on the last reply",
            )
        if mode == "continue":
            return TurnPlan(mode, chat_id, history[:-1], target=last, prefill=last.text)
        return TurnPlan(mode, chat_id, history[:-1], target=last)
    return TurnPlan(mode, chat_id, history)


def build_request(
    plan: TurnPlan,
    card: dict[str, Any],
    user: str,
    record: ConnectionRecord,
    preferences: GenerationPreferences,
) -> GenerationRequest:
    """The provider request for a planned turn."""
    sampling = sampling_for(preferences, record)
    budget = preferences.context_size - (sampling.max_tokens or DEFAULT_MAX_TOKENS)
    items = [HistoryItem(_role(message), message.text) for message in plan.history]
    messages = build_messages(
        card, items, user=user, budget_tokens=budget, impersonate=plan.mode == "impersonate"
    )
    return GenerationRequest(
        messages=messages,
        model=record.model,
        sampling=sampling,
        prefill=plan.prefill,
        context_size=preferences.context_size,
    )


def _final_status(reason: str, error: PytavernError | None) -> SwipeStatus:
    return "incomplete" if error is not None or reason == "cancelled" else "complete"


async def run_turn(
    store: Store,
    provider: Provider,
    plan: TurnPlan,
    *,
    card: dict[str, Any],
    user: str,
    record: ConnectionRecord,
) -> AsyncGenerator[StreamEvent, None]:
    """Stream one turn, persisting its result however the stream ends."""
    request = build_request(plan, card, user, record, load_preferences(store))
    accumulator = Accumulator()
    writer = ReplyWriter(
        store,
        ReplyTarget(plan.mode, plan.chat_id, card_fields(card)["name"], record.name, plan.target),
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
            if isinstance(event, TextDelta):
                writer.progress(accumulator)
            yield event
    except PytavernError as exc:
        error = exc
    finally:
        await _close(stream)
        reason = accumulator.finish_reason or ("error" if error else "cancelled")
        saved = writer.finish(
            accumulator,
            status=_final_status(reason, error),
            outcome={"finish_reason": reason, "error": str(error) if error else None},
        )
        plan.persisted = _persisted_info(saved, started)
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
