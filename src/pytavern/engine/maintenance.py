"""Automatic backups (before a migration, daily while serving) and the read-only doctor."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pytavern.engine.backup import AUTO_PREFIX, auto_backup, list_backups
from pytavern.errors import PytavernError
from pytavern.settings import Settings
from pytavern.store.database import sqlite_url
from pytavern.store.health import Finding, database_findings, table_counts
from pytavern.store.snapshot import migration_pending

DAILY = "daily"
BEFORE_MIGRATION = "before-migration"
DAY = timedelta(days=1)
CHECK_EVERY_SECONDS = 3600.0

log = logging.getLogger("pytavern.backup")


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL of the data folder's database."""
    return settings.database_url or sqlite_url(settings.database_path)


def _has_database(settings: Settings) -> bool:
    if settings.database_url:
        return True
    path = settings.database_path
    return path.exists() and path.stat().st_size > 0


def backup_before_migration(settings: Settings) -> bool:
    """Back up a database that is about to be migrated; True when a backup was made.

    A backup that cannot be made (no ``pg_dump``, a full disk) is logged, and the migration
    goes ahead: the warning says what to do.
    """
    if not _has_database(settings) or not migration_pending(database_url(settings)):
        return False
    try:
        info = auto_backup(settings, BEFORE_MIGRATION)
    except PytavernError as error:
        log.warning("pytavern: warning: no backup before the schema upgrade: %s", error)
        return False
    log.warning("pytavern: upgrading the database; a backup of it is in %s", info.path)
    return True


def last_daily_backup(settings: Settings) -> datetime | None:
    """When the newest daily backup was made, if there is one."""
    stamps = [
        datetime.fromtimestamp(p.stat().st_mtime, UTC)
        for p in list_backups(settings)
        if p.name.startswith(AUTO_PREFIX) and p.stem.endswith(f"-{DAILY}")
    ]
    return max(stamps, default=None)


def daily_backup_due(settings: Settings, now: datetime | None = None) -> bool:
    """True when there is no daily backup from the last 24 hours."""
    last = last_daily_backup(settings)
    return last is None or (now or datetime.now(UTC)) - last >= DAY


class DailyBackups:
    """A background thread that makes a daily backup while the server runs."""

    def __init__(self, settings: Settings, interval: float = CHECK_EVERY_SECONDS) -> None:
        self._settings = settings
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pytavern-backups", daemon=True)

    def start(self) -> None:
        """Start checking (the first check is immediate)."""
        if self._settings.daily_backup:
            self._thread.start()

    def stop(self) -> None:
        """Stop checking and wait for a backup in progress to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self._interval)

    def run_once(self) -> bool:
        """Make the daily backup if it is due; True when one was made."""
        if not daily_backup_due(self._settings) or not _has_database(self._settings):
            return False
        try:
            auto_backup(self._settings, DAILY)
        except PytavernError as error:
            log.warning("pytavern: warning: the daily backup failed: %s", error)
            return False
        return True


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """What ``doctor`` found: problems (empty when sound) and how much is stored."""

    findings: list[Finding]
    counts: dict[str, int]

    @property
    def sound(self) -> bool:
        """True when nothing is wrong."""
        return not self.findings


def doctor(settings: Settings) -> DoctorReport:
    """Check the database's integrity and look for orphaned or broken rows; change nothing."""
    if not _has_database(settings):
        raise PytavernError(
            f"there is no database in {settings.data_dir}",
            hint="Check --data-dir / PYTAVERN_DATA_DIR",
        )
    url = database_url(settings)
    findings = database_findings(url)
    counts = {} if any(f.check == "schema" for f in findings) else table_counts(url)
    return DoctorReport(findings, counts)
