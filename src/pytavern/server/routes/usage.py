"""Usage: the ledger of requests sent to backends, with totals (``GET /api/usage``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from pytavern.server.deps import ServicesDep

router = APIRouter(prefix="/api/usage", tags=["usage"])


@router.get("")
async def get_usage(
    services: ServicesDep,
    since: str | None = Query(None, description="7d, 12h, 30m or an ISO date"),
    by: str = Query("day", description="day, chat, connection or model"),
) -> dict[str, Any]:
    """The requests since ``since`` with their tokens, timing, outcome and cost, and the
    totals per ``by`` (the shape of ``pytavern usage --json``)."""
    return services.usage.report(since=since, by=by).to_dict()
