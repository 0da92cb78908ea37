"""The server's app: the eager routes, error handlers, guards and the static web UI, in
bare Starlette; the documented API (``api_app``, FastAPI) is loaded while it answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.routing import BaseRoute
from starlette.staticfiles import StaticFiles

from pytavern.engine import Engine
from pytavern.engine.services import Services
from pytavern.security.listen import is_loopback_host
from pytavern.server.access import AccessMiddleware
from pytavern.server.auth import Accounts
from pytavern.server.eager_routes import EAGER_ROUTES
from pytavern.server.errors import install_error_handlers
from pytavern.server.generations import Generations
from pytavern.server.middleware import GuardMiddleware
from pytavern.server.relay_pg import start_relay
from pytavern.server.route_loader import OPENAPI_URL, RouteLoader
from pytavern.server.uploads import BodyLimitMiddleware
from pytavern.settings import Settings

log = logging.getLogger(__name__)


def deferred_routes(state: State) -> list[BaseRoute]:
    """What ``RouteLoader`` loads after the server has started answering: the API app over
    the server's ``state``, as one route."""
    from pytavern.server.api_app import ApiRoute, build_api_app  # imported here: the point

    return [ApiRoute(build_api_app(state))]


def web_dir() -> Path:
    """The folder of the static web UI."""
    return Path(str(resources.files("pytavern").joinpath("web")))


async def _mark_interrupted(engine: Engine) -> int:
    """Mark the replies an earlier process left streaming (``Engine.mark_interrupted_
    replies``) while the server starts serving; a failure is logged, never raised."""
    try:
        marked = await engine.mark_interrupted_replies()
    except Exception:
        log.exception("replies left streaming by an earlier stop could not be marked")
        return 0
    if marked:
        log.warning(
            "pytavern: %d replies cut short by an earlier stop are marked interrupted", marked
        )
    return marked


def create_app(settings: Settings, engine: Engine | None = None) -> Starlette:
    """Build the pytavern app over ``engine`` (opened from ``settings`` when not given).

    An engine opened here is closed when the app shuts down; one passed in is the caller's.
    """
    owned = engine is None
    engine = engine or Engine.open(settings)
    services = Services(engine)
    generations = Generations(
        per_user=settings.generation_limit(), grace=settings.generation_replay_seconds
    )
    accounts = Accounts(services, settings) if settings.accounts else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.relay = await start_relay(settings, engine, generations)
        app.state.interrupted = asyncio.create_task(_mark_interrupted(engine))
        yield
        await app.state.interrupted
        await generations.aclose()
        if app.state.relay is not None:
            await app.state.relay.aclose()
        if accounts is not None:
            await accounts.aclose()
        if owned:
            await engine.aclose()

    app = Starlette(lifespan=lifespan)
    app.state.engine = engine
    app.state.services = services
    app.state.settings = settings
    app.state.generations = generations
    app.state.relay = None
    app.state.accounts = accounts
    install_error_handlers(app)
    app.router.routes.extend(EAGER_ROUTES)
    app.mount("/", StaticFiles(directory=web_dir(), html=True), name="web")
    app.add_middleware(
        RouteLoader,
        router=app.router,
        load=lambda: deferred_routes(app.state),
        ready=EAGER_ROUTES,
        before=app.router.routes[-1],
        openapi_url=OPENAPI_URL,
    )
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes)
    app.add_middleware(GuardMiddleware, loopback_only=is_loopback_host(settings.host))
    if settings.allow or settings.basic_auth:
        app.add_middleware(AccessMiddleware, allow=settings.allow, basic_auth=settings.basic_auth)
    return app
