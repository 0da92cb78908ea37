"""Typed dependencies shared by the routers.

They are ``async`` so they run on the event loop: no thread-pool hop per request, and no
two threads racing to create the same user's engine view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from pytavern.engine import Engine
from pytavern.engine.services import Services
from pytavern.server.auth import Accounts
from pytavern.server.generations import Generations


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


async def get_services(request: Request) -> Services:
    """The services this request works with: the app's, or those of the logged-in user."""
    accounts: Accounts | None = request.app.state.accounts
    if accounts is None:
        services: Services = request.app.state.services
        return services
    return accounts.services_for(accounts.require(request))


async def get_owner(request: Request) -> int:
    """The id of the logged-in user (0 without accounts)."""
    accounts: Accounts | None = request.app.state.accounts
    return 0 if accounts is None else accounts.require(request).id


async def get_generations(request: Request) -> Generations:
    """The registry of running generations."""
    generations: Generations = request.app.state.generations
    return generations


CallerDep = Annotated[Caller, Depends(get_caller)]
ServicesDep = Annotated[Services, Depends(get_services)]
OwnerDep = Annotated[int, Depends(get_owner)]
GenerationsDep = Annotated[Generations, Depends(get_generations)]
