"""A real ``pytavern serve``: it marks its data folder, backs up daily, and blocks restore."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner

from pytavern.cli import cli
from tests.reliability.harness import ServerProcess


def test_a_running_server_blocks_restore_until_it_stops(tmp_path: Path) -> None:
    folder = tmp_path / "served"
    server = ServerProcess(folder, tmp_path / "server.log")
    server.start()
    try:
        lock = folder / "server.pid"
        assert (
            lock.exists() and str(server.process.pid if server.process else "") in lock.read_text()
        )
        for _ in range(500):
            daily = list((folder / "backups").glob("auto-*-daily.zip"))
            if daily:
                break
            time.sleep(0.02)
        assert len(daily) == 1
        refused = CliRunner().invoke(cli, ["--data-dir", str(folder), "restore", str(daily[0])])
        assert refused.exit_code == 1
        assert "server" in refused.stderr and "--force" in refused.stderr
    finally:
        server.stop()
    assert not lock.exists()
    restored = CliRunner().invoke(cli, ["--data-dir", str(folder), "restore", str(daily[0])])
    assert restored.exit_code == 0, restored.stderr
