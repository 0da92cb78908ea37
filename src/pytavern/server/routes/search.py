"""Search across every chat of the user."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from pytavern.server.deps import ServicesDep

router = APIRouter(prefix="/api/search", tags=["search"])


@router.get("")
async def search(
    services: ServicesDep,
    q: str = Query(max_length=1000),
    character_id: int | None = None,
    limit: int = Query(default=50, ge=1, le=500),
) -> list[dict[str, Any]]:
    """Messages whose shown text holds every word of ``q``, newest first, with snippets."""
    return services.search.public(q, character_id=character_id, limit=limit)
