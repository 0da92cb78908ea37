"""pytavern: a private LLM frontend and server for character chat and roleplay."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
