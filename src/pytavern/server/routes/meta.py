"""What the UI needs to know about this server: API types, version, health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pytavern.engine.services.connections import api_type_infos
from pytavern.server.deps import OwnerDep
from pytavern.server.eager_routes import health_answer

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/api-types")
async def list_api_types(_owner: OwnerDep) -> list[dict[str, Any]]:
    """Every registered API type as its backend declares it (label, group, default URL, key
    variable, options with type, default and help), for the connection panel, in the
    panel's group order.

    With accounts on, only logged-in users may list them (like every non-public route).
    """
    return [info.to_dict() for info in api_type_infos()]


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness and version (answered by ``eager_routes.health`` from the first request on;
    described here)."""
    return health_answer()
