"""Typed dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pytavern.engine import Engine
from pytavern.server.generations import Generations
from pytavern.store import Store


def get_engine(request: Request) -> Engine:
    """The engine this app serves."""
    engine: Engine = request.app.state.engine
    return engine


def get_store(request: Request) -> Store:
    """The engine's store."""
    store: Store = request.app.state.engine.store
    return store


def get_generations(request: Request) -> Generations:
    """The registry of running generations."""
    generations: Generations = request.app.state.generations
    return generations


EngineDep = Annotated[Engine, Depends(get_engine)]
StoreDep = Annotated[Store, Depends(get_store)]
GenerationsDep = Annotated[Generations, Depends(get_generations)]
