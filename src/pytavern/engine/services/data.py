"""Your data: backups of the database, and a whole SillyTavern folder in and out.

``DataService`` works on one engine (the caller's data). Backups, restore and the doctor
work on a data folder's settings alone, without opening it (a restore must not have the
database open), so they are plain functions re-exported here for the faces.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pytavern.engine.backup import (
    BackupInfo,
    RestoreResult,
    check_backup,
    create_backup,
    latest_backup,
    list_backups,
    restore_backup,
)
from pytavern.engine.maintenance import DoctorReport, doctor
from pytavern.engine.services._base import Service
from pytavern.engine.st_export import Progress, export_all, export_all_zip
from pytavern.engine.st_import import ImportSummary, import_sillytavern

__all__ = [
    "BackupInfo",
    "DataService",
    "DoctorReport",
    "ImportSummary",
    "Progress",
    "RestoreResult",
    "check_backup",
    "create_backup",
    "doctor",
    "restore_backup",
]


class DataService(Service):
    """Backups of this data folder, and moving the caller's data to and from SillyTavern."""

    def back_up(self) -> BackupInfo:
        """A backup of the whole database now, into the data folder's ``backups/``."""
        return create_backup(self._engine.settings)

    def latest_backup(self) -> BackupInfo | None:
        """The newest backup in ``backups/``, if any."""
        return latest_backup(self._engine.settings)

    def backup_count(self) -> int:
        """How many backups ``backups/`` holds."""
        return len(list_backups(self._engine.settings))

    @property
    def backup_keep(self) -> int:
        """How many automatic backups are kept."""
        return self._engine.settings.backup_keep

    def export_all(self, out: Path, progress: Progress | None = None) -> Counter[str]:
        """Write the caller's data to ``out`` as a SillyTavern user folder."""
        return export_all(self._engine.store, out, progress=progress)

    def export_all_zip(self, target: Path) -> Counter[str]:
        """Write the caller's data as a zipped SillyTavern user folder."""
        return export_all_zip(self._engine.store, target)

    def import_sillytavern(
        self, path: Path, *, dry_run: bool = False, progress: Progress | None = None
    ) -> ImportSummary:
        """Import a SillyTavern folder into the caller's data (nothing twice)."""
        return import_sillytavern(self._engine.store, path, dry_run=dry_run, progress=progress)
