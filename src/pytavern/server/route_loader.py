"""Loading most of the API's routes while the server already answers.

Importing FastAPI and building its routes (their parameters, models and serializers) took
a third of a cold start. The app is built with the routes its first requests need (the
generation route and ``/api/health``, the one a supervisor or the browser's launcher
polls, both bare Starlette: ``eager_routes``); the API app (``api_app``) is imported and
built in a worker thread once the first request has been answered, and a request that only
it can answer waits for it without holding up the event loop. Every request is routed as if
the API had been there from the start: it goes in just before the static files' mount.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

LoadRoutes = Callable[[], Sequence[BaseRoute]]
"""Imports the deferred routes (run in a worker thread)."""
API_PREFIX = "/api/"
OPENAPI_URL = "/openapi.json"
"""The API's OpenAPI schema (outside ``API_PREFIX``, and loaded with the API)."""
DOCS_URL = "/api/docs"


class RouteLoader:
    """ASGI middleware: puts the deferred routes into ``router`` ahead of ``before``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        router: Router,
        load: LoadRoutes,
        ready: Sequence[BaseRoute],
        before: BaseRoute,
        openapi_url: str | None,
    ) -> None:
        """``ready``: the routes the app was built with that need no loading; ``before``:
        the route the loaded ones go in front of (the static files' mount)."""
        self.app = app
        self._router = router
        self._load = load
        self._ready = tuple(ready)
        self._before = before
        self._openapi_url = openapi_url
        self._loading: asyncio.Future[Sequence[BaseRoute]] | None = None
        self._installed = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route the request once the routes it may need are there."""
        if self._installed or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self._answered_now(scope):
            try:
                await self.app(scope, receive, send)
            finally:
                self._start()
            return
        await self.wait()
        await self.app(scope, receive, send)

    async def wait(self) -> None:
        """Load the deferred routes (once; in a worker thread) and put them in place."""
        routes = await asyncio.shield(self._start())
        if not self._installed:
            at = self._router.routes.index(self._before)
            self._router.routes[at:at] = routes
            self._installed = True

    def _start(self) -> asyncio.Future[Sequence[BaseRoute]]:
        if self._loading is None:
            self._loading = asyncio.get_running_loop().run_in_executor(None, self._load)
            self._loading.add_done_callback(_log_failure)
        return self._loading

    def _answered_now(self, scope: Scope) -> bool:
        """Whether the request is one the routes already there answer in full: a static
        file, or a route the app was built with (the OpenAPI schema lists them all)."""
        path: str = scope["path"]
        if not path.startswith(API_PREFIX) and path != self._openapi_url:
            return True
        return any(route.matches(scope)[0] is Match.FULL for route in self._ready)


def _log_failure(loading: asyncio.Future[Sequence[BaseRoute]]) -> None:
    if not loading.cancelled() and loading.exception() is not None:
        log.error("the API's routes could not be loaded", exc_info=loading.exception())
