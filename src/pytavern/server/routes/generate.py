"""Generation over SSE, and stopping a running generation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.responses import Response
from starlette.routing import Route

from pytavern.engine import GenerationMode
from pytavern.errors import NotFoundError, PytavernError
from pytavern.events import StreamEvent
from pytavern.server.deps import Caller, CallerDep, GenerationsDep, OwnerDep, get_caller
from pytavern.server.generations import Generation, Generations

router = APIRouter(tags=["generation"])
DISCONNECT_POLL = 0.25
"""How often a turn that has not produced its first event checks for a client that left."""

_SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: `event: text|reasoning|status|usage|error|finished`,"
        " `data:` JSON. The `X-Generation-Id` header names the generation for /stop.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


class GenerateBody(BaseModel):
    """What to generate: ``send`` (with ``text``), ``regenerate``, ``swipe``, ``continue``,
    ``impersonate``; ``connection`` overrides the default connection."""

    mode: GenerationMode = "send"
    text: str | None = Field(default=None, max_length=200_000)
    connection: str | None = None


@router.post("/chats/{chat_id}/generate", response_class=Generation, responses=_SSE_RESPONSE)
async def generate(
    chat_id: int, body: GenerateBody, caller: CallerDep, request: Request
) -> Generation:
    """Run one turn and stream its events; the reply is saved however the stream ends.

    The turn runs up to its first event before the answer starts, so a request that cannot
    start (no such chat or connection, nothing to continue) is an HTTP error with a status.
    """
    return await start_generation(request, chat_id, body, caller)


async def generate_fast(request: Request) -> Response:
    """The same route without FastAPI's per-request machinery (about a third of a
    millisecond before the turn starts, the hot path of every reply). It is matched before
    the documented route above; ids that are not numbers fall through to that one."""
    try:
        body = GenerateBody.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None
    caller = await get_caller(request)
    return await start_generation(request, request.path_params["chat_id"], body, caller)


FAST_ROUTES = [Route("/api/chats/{chat_id:int}/generate", generate_fast, methods=["POST"])]
"""Routes the app puts before all others (see ``generate_fast``)."""


async def start_generation(
    request: Request, chat_id: int, body: GenerateBody, caller: Caller
) -> Generation:
    """Start one turn and answer with its event stream once its first event is there."""
    events = caller.engine.generate(chat_id, body.mode, body.text, connection=body.connection)
    try:
        first = await _first_event(events, request)
    except BaseException:
        await events.aclose()  # type: ignore[attr-defined]
        raise
    generations: Generations = request.app.state.generations
    return generations.start(events, caller.owner, first=first)


async def _first_event(events: AsyncIterator[StreamEvent], request: Request) -> StreamEvent | None:
    """The stream's first event; gives up (cancelling the turn) if the client leaves first.

    The turn runs in this task (no task per request on the way to the first token); a
    watcher started only after ``DISCONNECT_POLL`` checks for a client that left and
    cancels it.
    """
    watch = _DisconnectWatch(request)
    try:
        return await anext(events)
    except StopAsyncIteration:
        return None
    except asyncio.CancelledError:
        if watch.client_left and watch.waiter.uncancel() == 0:
            raise PytavernError("the client left before the reply started") from None
        raise
    finally:
        watch.stop()


class _DisconnectWatch:
    """Checks every ``DISCONNECT_POLL`` seconds whether the client of the current task's
    request has gone; cancels that task when it has."""

    def __init__(self, request: Request) -> None:
        task = asyncio.current_task()
        assert task is not None  # called from a request handler
        self.waiter = task
        self.client_left = False
        self._request = request
        self._loop = asyncio.get_running_loop()
        self._check: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = self._loop.call_later(
            DISCONNECT_POLL, self._start_check
        )

    def stop(self) -> None:
        """Stop watching (the first event came, or the turn ended)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._check is not None and self._check is not asyncio.current_task():
            self._check.cancel()
        self._check = None

    def _start_check(self) -> None:
        self._timer = None
        self._check = self._loop.create_task(self._check_once())

    async def _check_once(self) -> None:
        if await self._request.is_disconnected():
            self.client_left = True
            self._check = None
            self.waiter.cancel()
        elif self._check is not None:  # not stopped meanwhile
            self._check = None
            self._timer = self._loop.call_later(DISCONNECT_POLL, self._start_check)


@router.post("/generations/{generation_id}/stop")
async def stop_generation(
    generation_id: str, generations: GenerationsDep, owner: OwnerDep
) -> dict[str, bool]:
    """Stop a running generation; what had arrived is kept, marked incomplete."""
    generation = generations.get(generation_id, owner)
    if generation is None:
        raise NotFoundError(
            f"no running generation {generation_id!r}", hint="It may have finished already"
        )
    generation.stop()
    return {"stopped": True}
