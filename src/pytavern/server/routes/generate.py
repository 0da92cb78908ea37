"""Generation over SSE, and stopping a running generation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from pytavern.engine import GenerationMode
from pytavern.errors import NotFoundError
from pytavern.server.deps import Caller, CallerDep, GenerationsDep, OwnerDep, get_caller
from pytavern.server.generations import (
    SSE_RESPONSE,
    Generations,
    GenerationStream,
    stream_generation,
)
from pytavern.server.relay import Relay

router = APIRouter(prefix="/api", tags=["generation"])


class GenerateBody(BaseModel):
    """What to generate: ``send`` (with ``text``), ``regenerate``, ``swipe``, ``continue``,
    ``impersonate``; ``connection`` overrides the default connection."""

    mode: GenerationMode = "send"
    text: str | None = Field(default=None, max_length=200_000)
    connection: str | None = None


@router.post(
    "/chats/{chat_id}/generate",
    response_class=GenerationStream,
    responses=SSE_RESPONSE,
    status_code=200,
)
async def generate(
    chat_id: int, body: GenerateBody, caller: CallerDep, request: Request
) -> GenerationStream:
    """Run one turn and stream its events; the reply is saved however the stream ends.

    The turn runs up to its first event before the answer starts, so a request that cannot
    start (no such chat or connection, nothing to continue) is an HTTP error with a status.
    """
    return await start_generation(request, chat_id, body, caller)


class FastGenerate:
    """The same route as a bare ASGI endpoint, without FastAPI's per-request machinery
    (about a third of a millisecond before the turn starts, the hot path of every reply);
    the turn's own task sends the answer's head with its first event. It is matched before
    the documented route above; ids that are not numbers fall through to that one."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Start the turn and stream its events."""
        request = Request(scope, receive)
        try:
            body = GenerateBody.model_validate_json(await request.body() or b"{}")
        except ValidationError as exc:
            raise RequestValidationError(
                [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
            ) from None
        caller = await get_caller(request)
        chat_id = request.path_params["chat_id"]
        stream = await start_generation(request, chat_id, body, caller, send)
        await stream(scope, receive, send)


FAST_ROUTES = [Route("/api/chats/{chat_id:int}/generate", FastGenerate(), methods=["POST"])]
"""Routes the app puts before all others (see ``FastGenerate``)."""


async def start_generation(
    request: Request, chat_id: int, body: GenerateBody, caller: Caller, send: Send | None = None
) -> GenerationStream:
    """Start one turn on the server and answer with its event stream once its first event
    is there; the turn runs to its end whatever the client does (only a stop ends it).
    With ``send``, the turn's task sends the answer's head and first frame itself."""
    generations: Generations = request.app.state.generations
    generations.check_room(caller.owner)
    events = caller.engine.generate(chat_id, body.mode, body.text, connection=body.connection)
    return await stream_generation(generations, events, caller.owner, chat_id, body.mode, send)


@router.post("/generations/{generation_id}/stop")
async def stop_generation(
    generation_id: str, generations: GenerationsDep, owner: OwnerDep, request: Request
) -> dict[str, bool]:
    """Stop a running generation; what had arrived is kept, marked incomplete."""
    generation = generations.get(generation_id, owner)
    if generation is not None and not generation.ended:
        generation.stop()
        return {"stopped": True}
    relay: Relay | None = request.app.state.relay
    if generation is None and relay is not None and await relay.stop(generation_id, owner):
        return {"stopped": True}
    raise NotFoundError(
        f"no running generation {generation_id!r}", hint="It may have finished already"
    )
