"""Typed dependencies shared by the routers.

They are ``async`` so they run on the event loop: no thread-pool hop per request, and no
two threads racing to create the same user's engine view.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pytavern.engine.services import Services
from pytavern.server.auth import Accounts
from pytavern.server.caller import Caller, get_caller
from pytavern.server.generations import Generations


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
