"""A throwaway PostgreSQL server on 127.0.0.1 for the store tests.

Debian's PostgreSQL binaries (package ``postgresql``; scripts/test.sh installs it) start a
private cluster in a temporary directory on a free port. PostgreSQL refuses to run as root,
so under root the cluster is run as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fakes.server import free_port

USER = "pytavern"


def _bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(
            f"PostgreSQL's {name} is not installed: run `apt-get install postgresql` "
            "(scripts/test.sh does this)"
        )
    return found


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a PostgreSQL cluster; yield a SQLAlchemy URL prefix ``postgresql+psycopg://...``."""
    root = Path(tempfile.mkdtemp(prefix="pytavern-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    run = lambda cmd: subprocess.run(_as_owner(cmd), check=True, capture_output=True)  # noqa: E731
    run([_bin("initdb"), "-D", str(data), "-A", "trust", "-U", USER, "--no-sync"])
    options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
    run([_bin("pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start"])
    try:
        yield f"postgresql+psycopg://{USER}@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_owner([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server; return its SQLAlchemy URL."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server_url}/{name}"
