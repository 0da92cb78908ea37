"""Who a request comes from: the one dependency the bare generation route needs (kept
apart from ``deps`` so the routes served from the first request on import no FastAPI)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from pytavern.engine import Engine
from pytavern.server.auth import Accounts


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, and the engine view that sees their data."""

    engine: Engine
    owner: int


async def get_caller(request: Request) -> Caller:
    """The engine and user id of this request in one step (one session check with
    accounts on): the generation route's only dependency."""
    accounts: Accounts | None = request.app.state.accounts
    if accounts is None:
        return Caller(request.app.state.engine, 0)
    user = accounts.require(request)
    return Caller(accounts.services_for(user).engine, user.id)
