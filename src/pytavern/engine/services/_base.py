"""What every service shares: the engine it works on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytavern.engine import Engine


class Service:
    """One use case's functions over one engine (a data folder, seen as one user)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
