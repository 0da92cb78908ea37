"""Typed dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pytavern.engine import Engine
from pytavern.server.auth import Accounts
from pytavern.server.generations import Generations
from pytavern.store import Store


def get_engine(request: Request) -> Engine:
    """The engine this request works with: the app's, or the logged-in user's view of it."""
    accounts: Accounts | None = request.app.state.accounts
    if accounts is None:
        engine: Engine = request.app.state.engine
        return engine
    return accounts.engine_for(accounts.require(request))


def get_store(request: Request) -> Store:
    """The store this request works with."""
    return get_engine(request).store


def get_owner(request: Request) -> int:
    """The id of the logged-in user (0 without accounts)."""
    accounts: Accounts | None = request.app.state.accounts
    return 0 if accounts is None else accounts.require(request).id


def get_generations(request: Request) -> Generations:
    """The registry of running generations."""
    generations: Generations = request.app.state.generations
    return generations


EngineDep = Annotated[Engine, Depends(get_engine)]
StoreDep = Annotated[Store, Depends(get_store)]
OwnerDep = Annotated[int, Depends(get_owner)]
GenerationsDep = Annotated[Generations, Depends(get_generations)]
