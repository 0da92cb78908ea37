"""Backups and "download everything": ``/api/backups`` and ``/api/export/sillytavern.zip``."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from pytavern.engine.backup import create_backup, latest_backup, list_backups
from pytavern.engine.st_export import export_all_zip
from pytavern.server.auth import Accounts, ForbiddenError
from pytavern.server.deps import EngineDep
from pytavern.settings import Settings

router = APIRouter(tags=["data"])


def _whole_database_allowed(request: Request) -> bool:
    """A backup holds every user's data: with accounts on, only an admin may make one."""
    accounts: Accounts | None = request.app.state.accounts
    return accounts is None or accounts.require(request).is_admin


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/backups")
def backups_state(request: Request, _engine: EngineDep) -> dict[str, Any]:
    """The newest backup in the data folder and how many are kept."""
    settings = _settings(request)
    allowed = _whole_database_allowed(request)
    latest = latest_backup(settings) if allowed else None
    return {
        "allowed": allowed,
        "latest": latest.to_dict() | {"path": latest.path.name} if latest else None,
        "count": len(list_backups(settings)) if allowed else 0,
        "keep": settings.backup_keep,
    }


@router.post("/backups", status_code=201)
def back_up_now(request: Request, _engine: EngineDep) -> dict[str, Any]:
    """Make a backup of the database now (without keys) in the data folder's backups/."""
    if not _whole_database_allowed(request):
        raise ForbiddenError(
            "only an administrator can back up the database",
            hint="Download your own data with 'Download everything' instead",
        )
    info = create_backup(_settings(request))
    return info.to_dict() | {"path": info.path.name}


@router.get("/export/sillytavern.zip")
def download_everything(engine: EngineDep) -> FileResponse:
    """Everything the caller owns as a zipped SillyTavern user folder."""
    scratch = tempfile.TemporaryDirectory(prefix="pytavern-download-")
    target = Path(scratch.name) / "pytavern-sillytavern.zip"
    export_all_zip(engine.store, target)
    return FileResponse(
        target,
        media_type="application/zip",
        filename="pytavern-sillytavern.zip",
        background=BackgroundTask(scratch.cleanup),
    )
