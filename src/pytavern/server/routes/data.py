"""Backups and "download everything": ``/api/backups`` and ``/api/export/sillytavern.zip``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from pytavern.errors import ForbiddenError
from pytavern.server.auth import Accounts
from pytavern.server.deps import ServicesDep

router = APIRouter(prefix="/api", tags=["data"])


def _whole_database_allowed(request: Request) -> bool:
    """A backup holds every user's data: with accounts on, only an admin may make one."""
    accounts: Accounts | None = request.app.state.accounts
    return accounts is None or accounts.require(request).is_admin


@router.get("/backups")
def backups_state(request: Request, services: ServicesDep) -> dict[str, Any]:
    """The newest backup in the data folder and how many are kept."""
    allowed = _whole_database_allowed(request)
    latest = services.data.latest_backup() if allowed else None
    return {
        "allowed": allowed,
        "latest": latest.to_dict() | {"path": latest.path.name} if latest else None,
        "count": services.data.backup_count() if allowed else 0,
        "keep": services.data.backup_keep,
    }


@router.post("/backups", status_code=201)
def back_up_now(request: Request, services: ServicesDep) -> dict[str, Any]:
    """Make a backup of the database now (without keys) in the data folder's backups/."""
    if not _whole_database_allowed(request):
        raise ForbiddenError(
            "only an administrator can back up the database",
            hint="Download your own data with 'Download everything' instead",
        )
    info = services.data.back_up()
    return info.to_dict() | {"path": info.path.name}


@router.get("/export/sillytavern.zip")
def download_everything(services: ServicesDep) -> FileResponse:
    """Everything the caller owns as a zipped SillyTavern user folder."""
    scratch = tempfile.TemporaryDirectory(prefix="pytavern-download-")
    target = Path(scratch.name) / "pytavern-sillytavern.zip"
    services.data.export_all_zip(target)
    return FileResponse(
        target,
        media_type="application/zip",
        filename="pytavern-sillytavern.zip",
        background=BackgroundTask(scratch.cleanup),
    )
