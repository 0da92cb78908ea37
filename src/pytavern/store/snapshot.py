"""Consistent copies of the database: SQLite's online backup API and PostgreSQL's pg_dump.

A snapshot is taken while the server keeps writing: SQLite's backup API copies the pages of
one read transaction (WAL mode lets writers go on meanwhile), ``pg_dump`` runs in one
repeatable-read transaction. Nothing here changes the database being copied.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, inspect, make_url, text

from pytavern.errors import ConfigError, StoreError
from pytavern.store.database import HEAD_REVISION, MIGRATIONS_DIR

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

PG_TOOLS_HINT = "Install PostgreSQL's client tools (Debian: `apt-get install postgresql-client`)"


def _scripts() -> ScriptDirectory:
    """The migrations folder (Alembic is imported here: a server's start does not need it)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config)


def known_revisions() -> set[str]:
    """Every schema migration this pytavern knows."""
    return {script.revision for script in _scripts().walk_revisions()}


def schema_revision(url: str) -> str | None:
    """The migration a database is at (``None`` for an empty or missing database)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
            return str(revision) if revision is not None else None
    finally:
        engine.dispose()


def migration_pending(url: str) -> bool:
    """True when a database holding data is older than this pytavern's schema.

    Compared with ``HEAD_REVISION`` (a test keeps it at Alembic's head): every start asks,
    and reading the migration scripts would import Alembic (~80 ms) to learn nothing."""
    current = schema_revision(url)
    return current is not None and current != HEAD_REVISION


def sqlite_snapshot(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` to a new file ``target`` (mode 0600), online."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise StoreError(
            f"could not copy the database {source} ({exc})",
            hint="Check free disk space and run `pytavern doctor`",
        ) from exc
    finally:
        dst.close()
        src.close()


def sqlite_problems(path: Path) -> list[str]:
    """What SQLite's integrity and foreign-key checks find wrong in ``path`` (empty: sound)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [f"cannot open: {exc}"]
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
        problems = [str(row[0]) for row in rows if row[0] != "ok"]
        keys = connection.execute("PRAGMA foreign_key_check").fetchall()
        problems += [f"row {row[1]} of {row[0]} points to a missing {row[2]} row" for row in keys]
    except sqlite3.Error as exc:
        problems = [f"not a readable SQLite database ({exc})"]
    finally:
        connection.close()
    return problems


def sqlite_file_revision(path: Path) -> str | None:
    """The schema migration of a SQLite file (``None`` when it has none)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def pg_tool(name: str) -> str | None:
    """The path of a PostgreSQL client program (``pg_dump``, ``pg_restore``), if installed."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    return str(versions[0]) if versions else None


def libpq_environment(url: str) -> dict[str, str]:
    """The environment that points libpq's tools at the database of SQLAlchemy ``url``.

    The password travels in ``PGPASSWORD``, never on a command line others can read.
    """
    parsed = make_url(url)
    values = {
        "PGHOST": parsed.host,
        "PGPORT": str(parsed.port) if parsed.port else None,
        "PGUSER": parsed.username,
        "PGPASSWORD": parsed.password,
        "PGDATABASE": parsed.database,
    }
    environment = dict(os.environ)
    environment.update({key: value for key, value in values.items() if value})
    return environment


def _run_pg(name: str, arguments: list[str], url: str) -> None:
    program = pg_tool(name)
    if program is None:
        raise ConfigError(f"{name} is not installed", hint=PG_TOOLS_HINT)
    result = subprocess.run(
        [program, *arguments], env=libpq_environment(url), capture_output=True, check=False
    )
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StoreError(
            f"{name} failed: {detail[-1] if detail else f'exit status {result.returncode}'}",
            hint="Check that the PostgreSQL server is running and its client tools match it",
        )


def pg_dump(url: str, target: Path) -> None:
    """Write a custom-format dump of the PostgreSQL database at ``url`` to ``target``."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    _run_pg("pg_dump", ["--format=custom", "--no-owner", "--file", str(target)], url)


def pg_dump_listing(dump: Path) -> str:
    """``pg_restore --list`` of a dump: raises ``StoreError`` when it is not a sound dump."""
    program = pg_tool("pg_restore")
    if program is None:
        raise ConfigError("pg_restore is not installed", hint=PG_TOOLS_HINT)
    result = subprocess.run([program, "--list", str(dump)], capture_output=True, check=False)
    if result.returncode != 0:
        raise StoreError(
            "the PostgreSQL dump in the backup cannot be read",
            hint="The backup file is damaged; use another one",
        )
    return result.stdout.decode("utf-8", "replace")


def pg_restore(url: str, dump: Path) -> None:
    """Replace the PostgreSQL database at ``url`` with the dump, in one transaction."""
    arguments = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
    database = make_url(url).database or ""
    _run_pg("pg_restore", [*arguments, "--dbname", database, str(dump)], url)
