"""pytavern's HTTP face: a FastAPI app (REST + SSE) and the static web UI."""

from __future__ import annotations

from pytavern.server.app import create_app

__all__ = ["create_app"]
