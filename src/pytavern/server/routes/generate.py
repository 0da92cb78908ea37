"""Generation over SSE, and stopping a running generation."""

from __future__ import annotations

from fastapi import APIRouter, Request

from pytavern.errors import NotFoundError
from pytavern.server.deps import CallerDep, GenerationsDep, OwnerDep
from pytavern.server.eager_routes import GenerateBody, start_generation
from pytavern.server.generations import SSE_RESPONSE, GenerationStream
from pytavern.server.relay import Relay

router = APIRouter(prefix="/api", tags=["generation"])


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
