"""The routes the server answers from its first request on: the hot generation route and
``/api/health``, as bare Starlette endpoints.

They need no FastAPI (whose import and route building are a fifth of a cold start); the
documented API, these two included, is the FastAPI app ``api_app`` builds while the server
already answers. Matched before it, they spare the hot path FastAPI's per-request
machinery (about a third of a millisecond before a turn starts).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from pytavern import __version__
from pytavern.engine import GenerationMode
from pytavern.server.caller import Caller, get_caller
from pytavern.server.errors import validation_answer
from pytavern.server.generations import Generations, GenerationStream, stream_generation


class GenerateBody(BaseModel):
    """What to generate: ``send`` (with ``text``), ``regenerate``, ``swipe``, ``continue``,
    ``impersonate``; ``connection`` overrides the default connection."""

    mode: GenerationMode = "send"
    text: str | None = Field(default=None, max_length=200_000)
    connection: str | None = None


def health_answer() -> dict[str, str]:
    """Liveness and version (the body of ``GET /api/health``)."""
    return {"status": "ok", "version": __version__}


async def health(_request: Request) -> Response:
    """``GET /api/health``."""
    return JSONResponse(health_answer())


class FastGenerate:
    """``POST /api/chats/{chat_id}/generate`` as a bare ASGI endpoint; the turn's own task
    sends the answer's head with its first event. Ids that are not numbers fall through to
    the documented route, which answers them as FastAPI does."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Start the turn and stream its events."""
        request = Request(scope, receive)
        try:
            body = GenerateBody.model_validate_json(await request.body() or b"{}")
        except ValidationError as exc:
            problems = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
            await validation_answer(problems)(scope, receive, send)
            return
        caller = await get_caller(request)
        chat_id = request.path_params["chat_id"]
        stream = await start_generation(request, chat_id, body, caller, send)
        await stream(scope, receive, send)


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


EAGER_ROUTES: list[BaseRoute] = [
    Route("/api/chats/{chat_id:int}/generate", FastGenerate(), methods=["POST"]),
    Route("/api/health", health, methods=["GET"]),
]
"""What the app answers before the API's other routes are loaded, matched first."""
