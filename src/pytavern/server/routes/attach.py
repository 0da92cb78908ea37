"""Re-attaching to a generation: the chat's running generation, and its event stream."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request

from pytavern.errors import FormatError, NotFoundError
from pytavern.server.deps import GenerationsDep, OwnerDep
from pytavern.server.generations import (
    GenerationLog,
    Generations,
    GenerationStream,
    sse_response,
)
from pytavern.server.relay import Relay

router = APIRouter(prefix="/api", tags=["generation"])

_SSE = sse_response(
    "The generation's server-sent events from `Last-Event-ID` (or `after`) on, then live,"
    " ending with `finished`."
)


@router.get("/chats/{chat_id}/generation")
async def chat_generation(
    chat_id: int, generations: GenerationsDep, owner: OwnerDep, request: Request
) -> dict[str, Any]:
    """The generation running in this chat: id, mode, started, text so far; 404 if none."""
    log = await _running_in(chat_id, generations, owner, request)
    if log is None:
        raise NotFoundError(
            f"no generation is running in chat {chat_id}", hint="The stored chat is complete"
        )
    return log.info()


@router.get("/generations")
async def running_generations(
    chat_id: int, generations: GenerationsDep, owner: OwnerDep, request: Request
) -> list[dict[str, Any]]:
    """The generations running in chat ``chat_id``: a list of none or one (what the web UI
    asks on every chat it opens, where a 404 would be noise)."""
    log = await _running_in(chat_id, generations, owner, request)
    return [] if log is None else [log.info()]


async def _running_in(
    chat_id: int, generations: Generations, owner: int, request: Request
) -> GenerationLog | None:
    log: GenerationLog | None = generations.running_in(chat_id, owner)
    relay: Relay | None = request.app.state.relay
    if log is None and relay is not None:
        log = await relay.running_in(chat_id, owner)
    return None if log is None or log.ended else log


@router.get(
    "/generations/{generation_id}/events",
    response_class=GenerationStream,
    responses=_SSE,
    status_code=200,
)
async def generation_events(
    generation_id: str,
    generations: GenerationsDep,
    owner: OwnerDep,
    request: Request,
    after: Annotated[int | None, Query(ge=0)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> GenerationStream:
    """Stream a generation from the start (or after ``Last-Event-ID``), live, to its end.

    A generation that ended stays here for about a minute; after that the stored chat is
    the truth (404).
    """
    log: GenerationLog | None = generations.get(generation_id, owner)
    relay: Relay | None = request.app.state.relay
    if log is None and relay is not None:
        log = await relay.attach(generation_id, owner)
    if log is None:
        raise NotFoundError(
            f"no generation {generation_id!r}", hint="It ended; the stored chat has the reply"
        )
    return GenerationStream(log, _start(after, last_event_id))


def _start(after: int | None, last_event_id: str | None) -> int:
    """Where the stream starts: after the header's id, else ``after``, else the beginning."""
    if last_event_id is not None and last_event_id.strip():
        try:
            after = int(last_event_id)
        except ValueError:
            raise FormatError(
                f"Last-Event-ID {last_event_id[:20]!r} is not an event id of this stream",
                hint="Send the id: of the last event received, or none to start again",
            ) from None
    start = after or 0
    if start < 0:
        raise FormatError("Last-Event-ID cannot be negative", hint="Send the last id received")
    return start
