"""Backups and restore of a data folder's database (and, when asked, its sealed keys).

A backup is one zip file: ``manifest.json`` (what it holds, the schema revision, a SHA-256
of the database copy), the database copy (``pytavern.db`` from SQLite's online backup API or
``pytavern.pgdump`` from ``pg_dump``) and, only when asked, ``keys.sealed`` (the key store
encrypted with a passphrase). It is taken while the server runs; ``restore_backup`` checks
the file is sound before anything is replaced, and never runs over a live server unless
forced.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pytavern import __version__
from pytavern.engine.backup_keys import key_store_files, restore_key_store, seal, unseal
from pytavern.engine.server_lock import running_server
from pytavern.engine.storage import make_private_dir
from pytavern.errors import ConfigError, FormatError, StoreError
from pytavern.settings import Settings
from pytavern.store import Store
from pytavern.store.snapshot import (
    known_revisions,
    pg_dump,
    pg_dump_listing,
    pg_restore,
    schema_revision,
    sqlite_file_revision,
    sqlite_problems,
    sqlite_snapshot,
)
from pytavern.store.turn_journal import drop_abandoned_journals, journals_of

log = logging.getLogger(__name__)

FORMAT = "pytavern-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
KEYS = "keys.sealed"
SQLITE_MEMBER = "pytavern.db"
PG_MEMBER = "pytavern.pgdump"
AUTO_PREFIX = "auto-"
SUFFIX = ".zip"


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """What a backup file holds."""

    path: Path
    created: datetime
    database: str
    schema: str | None
    has_keys: bool
    size: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "path": str(self.path),
            "created": self.created.isoformat(),
            "database": self.database,
            "schema": self.schema,
            "keys": self.has_keys,
            "bytes": self.size,
        }


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore did."""

    backup: BackupInfo
    keys_restored: bool
    previous: Path | None
    """The automatic backup of what was there before, if there was a database."""
    server_pid: int | None = None
    """A server that was using the folder (a forced restore): it must be restarted."""


def backups_dir(settings: Settings) -> Path:
    """The folder of automatic backups (and manual ones made without ``--out``)."""
    return settings.data_dir / "backups"


def _database_kind(settings: Settings) -> str:
    return "postgresql" if settings.database_url else "sqlite"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%d-%H%M%S-%f")


def _default_path(settings: Settings, moment: datetime, reason: str | None) -> Path:
    name = f"{AUTO_PREFIX}{_stamp(moment)}-{reason}" if reason else f"pytavern-{_stamp(moment)}"
    return backups_dir(settings) / f"{name}{SUFFIX}"


@contextmanager
def _scratch(near: Path | None) -> Iterator[Path]:
    """A private (0700) temporary folder, inside ``near`` to stay on its file system."""
    with tempfile.TemporaryDirectory(dir=near, prefix=".pytavern-backup-") as folder:
        yield Path(folder)


def _snapshot(settings: Settings, folder: Path) -> tuple[str, Path]:
    if settings.database_url:
        target = folder / PG_MEMBER
        pg_dump(settings.database_url, target)
        return PG_MEMBER, target
    target = folder / SQLITE_MEMBER
    sqlite_snapshot(settings.database_path, target)
    return SQLITE_MEMBER, target


def create_backup(
    settings: Settings,
    out: Path | None = None,
    *,
    passphrase: str | None = None,
    reason: str | None = None,
) -> BackupInfo:
    """Write a consistent backup of the database (and the sealed keys if ``passphrase``).

    ``out`` defaults to ``backups/`` in the data folder; ``reason`` marks an automatic one.
    The file is written under a temporary name and renamed, so a half-written backup never
    has a backup's name.
    """
    if not settings.database_url and not settings.database_path.exists():
        raise StoreError(
            f"there is no database to back up in {settings.data_dir}",
            hint="Check --data-dir / PYTAVERN_DATA_DIR",
        )
    moment = datetime.now(UTC)
    target = out or _default_path(settings, moment, reason)
    keys = seal(key_store_files(settings), passphrase) if passphrase is not None else None
    if out is None:
        make_private_dir(target.parent)
    elif not target.parent.is_dir():
        raise ConfigError(f"the folder of {target} does not exist", hint="Create it first")
    with _scratch(target.parent) as folder:
        member, copy = _snapshot(settings, folder)
        revision = _copy_revision(settings, copy)
        manifest = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created": moment.isoformat(),
            "pytavern": __version__,
            "database": _database_kind(settings),
            "schema": revision,
            "member": member,
            "sha256": _sha256(copy),
            "keys": keys is not None,
            "reason": reason,
        }
        staged = folder / "backup.zip"
        _write_zip(staged, manifest, copy, member, keys)
        os.replace(staged, target)
    return _info(target, manifest)


def _copy_revision(settings: Settings, copy: Path) -> str | None:
    if settings.database_url:
        return schema_revision(settings.database_url)
    return sqlite_file_revision(copy)


def _write_zip(
    path: Path, manifest: dict[str, Any], copy: Path, member: str, keys: bytes | None
) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
            archive.write(copy, member)
            if keys is not None:
                archive.writestr(KEYS, keys)
        handle.flush()
        os.fsync(handle.fileno())


def _info(path: Path, manifest: dict[str, Any]) -> BackupInfo:
    return BackupInfo(
        path=path,
        created=datetime.fromisoformat(str(manifest["created"])),
        database=str(manifest["database"]),
        schema=manifest.get("schema"),
        has_keys=bool(manifest.get("keys")),
        size=path.stat().st_size,
    )


def _unsound(path: Path, why: str) -> FormatError:
    return FormatError(f"{path} is not a sound pytavern backup: {why}", hint="Use another backup")


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of backup file ``path``; raises ``FormatError`` if it is not one."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST))
    except FileNotFoundError:
        raise FormatError(f"no such backup file: {path}") from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _unsound(path, f"it has no readable manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _unsound(path, "its manifest is not a pytavern backup's")
    return manifest


def _extract_checked(path: Path, manifest: dict[str, Any], folder: Path) -> Path:
    member = str(manifest.get("member"))
    if member not in (SQLITE_MEMBER, PG_MEMBER):
        raise _unsound(path, f"unknown database member {member!r}")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
            if bad is not None:
                raise _unsound(path, f"{bad} is damaged (checksum mismatch)")
            extracted = Path(archive.extract(member, folder))
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise _unsound(path, f"the database copy cannot be read ({exc})") from None
    if _sha256(extracted) != manifest.get("sha256"):
        raise _unsound(path, "the database copy does not match its checksum")
    _check_database(path, manifest, extracted)
    return extracted


def _check_database(path: Path, manifest: dict[str, Any], extracted: Path) -> None:
    revision = manifest.get("schema")
    if revision is not None and revision not in known_revisions():
        raise FormatError(
            f"{path} was made by a newer pytavern (schema {revision})",
            hint="Upgrade pytavern, then restore",
        )
    if manifest.get("member") == PG_MEMBER:
        pg_dump_listing(extracted)
        return
    problems = sqlite_problems(extracted)
    if problems:
        raise _unsound(path, f"the database copy fails its integrity check ({problems[0]})")
    if sqlite_file_revision(extracted) != revision:
        raise _unsound(path, "the database copy's schema differs from its manifest")


def check_backup(path: Path) -> BackupInfo:
    """Check that ``path`` is a sound backup this pytavern can restore; describe it."""
    manifest = read_manifest(path)
    with _scratch(None) as folder:
        _extract_checked(path, manifest, folder)
    return _info(path, manifest)


def _sealed_keys(path: Path, manifest: dict[str, Any], passphrase: str | None) -> dict[str, bytes]:
    if not manifest.get("keys") or passphrase is None:
        return {}
    with zipfile.ZipFile(path) as archive:
        return unseal(archive.read(KEYS), passphrase)


def restore_backup(
    settings: Settings, path: Path, *, force: bool = False, passphrase: str | None = None
) -> RestoreResult:
    """Replace the data folder's database with the backup ``path`` (checked first).

    Refuses while a server uses the folder unless ``force``. What was there is first saved
    as an automatic backup. Keys are restored only from a backup that has them, with its
    passphrase (a wrong one stops the restore before anything changes).
    """
    pid = running_server(settings.data_dir)
    if pid is not None and not force:
        raise ConfigError(
            f"a pytavern server (pid {pid}) is using {settings.data_dir}",
            hint="Stop the server first, or pass --force to restore under it",
        )
    manifest = read_manifest(path)
    if manifest.get("database") != _database_kind(settings):
        raise ConfigError(
            f"{path} is a {manifest.get('database')} backup; this data folder uses "
            f"{_database_kind(settings)}",
            hint="Restore it with the matching database settings (PYTAVERN_DATABASE_URL)",
        )
    keys = _sealed_keys(path, manifest, passphrase)
    make_private_dir(settings.data_dir)
    with _scratch(settings.data_dir) as folder:
        extracted = _extract_checked(path, manifest, folder)
        _settle_journals(settings)
        previous = _save_previous(settings)
        _replace_database(settings, extracted)
    restore_key_store(settings, keys)
    return RestoreResult(_info(path, manifest), bool(keys), previous, pid)


def _settle_journals(settings: Settings) -> None:
    """Commit what a server that died had noted and not committed into the database it
    was noted for, before that database is saved and replaced; drop what cannot be (it
    must never reach the restored one)."""
    if settings.database_url or not journals_of(settings.database_path):
        return
    try:
        Store.open_sqlite(settings.database_path).close()  # opening commits them
    except Exception as exc:  # a database this version cannot open: the restore goes on
        log.warning("noted chat writes could not be committed before the restore: %s", exc)
    drop_abandoned_journals(settings.database_path)


def _save_previous(settings: Settings) -> Path | None:
    if settings.database_url:
        if schema_revision(settings.database_url) is None:
            return None
    elif not settings.database_path.exists() or not settings.database_path.stat().st_size:
        return None
    return create_backup(settings, reason="before-restore").path


def _replace_database(settings: Settings, extracted: Path) -> None:
    if settings.database_url:
        pg_restore(settings.database_url, extracted)
        return
    database = settings.database_path
    for suffix in ("-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    extracted.chmod(0o600)
    os.replace(extracted, database)


def list_backups(settings: Settings) -> list[Path]:
    """The backup files in ``backups/``, oldest first."""
    folder = backups_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: (p.stat().st_mtime_ns, p.name))


def latest_backup(settings: Settings) -> BackupInfo | None:
    """The newest backup in ``backups/`` (manual or automatic), if any."""
    for path in reversed(list_backups(settings)):
        try:
            return _info(path, read_manifest(path))
        except FormatError:
            continue
    return None


def rotate_backups(settings: Settings) -> list[Path]:
    """Delete the oldest automatic backups beyond ``settings.backup_keep``; return them."""
    automatic = [p for p in list_backups(settings) if p.name.startswith(AUTO_PREFIX)]
    surplus = automatic[: max(0, len(automatic) - settings.backup_keep)]
    for path in surplus:
        path.unlink(missing_ok=True)
    return surplus


def auto_backup(settings: Settings, reason: str) -> BackupInfo:
    """Make an automatic backup (``reason``: daily, before-migration...) and rotate."""
    info = create_backup(settings, reason=reason)
    rotate_backups(settings)
    return info
