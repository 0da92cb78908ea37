"""pytavern: a private LLM frontend and server for character chat and roleplay.

Script it with :func:`pytavern.open` (synchronous) or :func:`pytavern.open_async`; both live
in :mod:`pytavern.api` and are imported on first use, so ``import pytavern`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytavern.api import AsyncTavern, Reply, Tavern, open, open_async

__version__ = "0.1.0"

__all__ = ["AsyncTavern", "Reply", "Tavern", "__version__", "open", "open_async"]

_LAZY = frozenset({"AsyncTavern", "Reply", "Tavern", "open", "open_async"})


def __getattr__(name: str) -> Any:
    """Import the public API (``pytavern.open``...) when it is first asked for."""
    if name in _LAZY:
        from pytavern import api

        return getattr(api, name)
    raise AttributeError(f"module 'pytavern' has no attribute {name!r}")
