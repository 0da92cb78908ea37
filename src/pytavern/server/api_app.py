"""The documented API: a FastAPI app with every route under ``/api``, the OpenAPI schema
and its docs page, built by ``RouteLoader`` in a worker thread once the server answers.

The server's own app (``app.create_app``) is bare Starlette; this one sits in its router as
one route (``ApiRoute``), sharing its state, and answers every request none of the eager
routes (``eager_routes``) takes, the web UI's files excepted.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from pytavern import __version__
from pytavern.server.errors import install_error_handlers, validation_answer
from pytavern.server.route_loader import DOCS_URL, OPENAPI_URL
from pytavern.server.routes._table import ROUTERS

_NO_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters
    else {}
)
"""pytavern reports nothing anywhere. FastAPI versions with built-in OpenTelemetry would
otherwise look for configured providers on every request."""


def build_api_app(state: State) -> FastAPI:
    """The API's FastAPI app over the server's ``state`` (its engine, services, accounts
    and running generations), with every router's routes in ``ROUTERS`` order.

    The routes are taken into the app's list as they are rather than ``include_router``-ed:
    FastAPI would build an included route a second time (its parameters, models and
    serializers) on the first request, and match every request through an extra layer
    per router."""
    app = FastAPI(
        title="pytavern",
        version=__version__,
        description="Chat with characters through any LLM backend.",
        docs_url=DOCS_URL,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        **_NO_TELEMETRY,
    )
    app.state = state
    install_error_handlers(app, mounted=True)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.router.routes.extend(route for router in ROUTERS for route in router.routes)
    return app


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_answer(exc.errors())


class ApiRoute(BaseRoute):
    """The API app as one route of the server's router: it matches where one of the app's
    routes does (a wrong method only partly, so that a 405 still wins over the web UI's
    files) and hands the request to the app, which routes it again."""

    def __init__(self, app: FastAPI) -> None:
        """``app``: the API app (``build_api_app``)."""
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Full when one of the API's routes matches ``scope`` in full."""
        best = Match.NONE
        for route in self.app.router.routes:
            match, _child = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {}
            if match is Match.PARTIAL:
                best = Match.PARTIAL
        return best, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer through the API app."""
        await self.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        """The path of the API route called ``name``."""
        for route in self.app.router.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)
