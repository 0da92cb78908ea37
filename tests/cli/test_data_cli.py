"""``pytavern backup | restore | doctor`` from the command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from pytavern.cli import cli


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def database_bytes(data_dir: Path) -> bytes:
    return (data_dir / "pytavern.db").read_bytes()


def test_backup_restore_round_trip(data_dir: Path, tmp_path: Path) -> None:
    assert run(data_dir, "characters", "list")[0] == 0
    out = tmp_path / "b.zip"
    code, stdout, err = run(data_dir, "backup", "--out", str(out), "--json")
    assert code == 0, err
    assert json.loads(stdout)["keys"] is False and out.exists()
    code, stdout, _ = run(data_dir, "restore", str(out), "--check")
    assert code == 0 and "sound backup" in stdout
    fresh = tmp_path / "fresh"
    code, stdout, err = run(fresh, "restore", str(out))
    assert code == 0, err
    code, stdout, _ = run(fresh, "characters", "list", "--json")
    assert len(json.loads(stdout)) == 1


def test_backup_with_keys_needs_a_passphrase_from_the_environment(
    data_dir: Path, tmp_path: Path
) -> None:
    run(data_dir, "characters", "list")
    code, _, err = run(data_dir, "backup", "--with-keys")
    assert code == 1 and "--passphrase-env" in err
    code, _, err = run(data_dir, "backup", "--with-keys", "--passphrase-env", "PT_PASS")
    assert code == 1 and "PT_PASS" in err
    code, stdout, err = run(
        data_dir,
        "backup",
        "--with-keys",
        "--passphrase-env",
        "PT_PASS",
        "--json",
        env={"PT_PASS": "long enough passphrase"},
    )
    assert code == 0, err
    assert json.loads(stdout)["keys"] is True


def test_doctor_reports_orphans_and_changes_nothing(data_dir: Path) -> None:
    assert run(data_dir, "characters", "list")[0] == 0
    code, stdout, _ = run(data_dir, "doctor")
    assert code == 0 and "sound" in stdout
    connection = sqlite3.connect(data_dir / "pytavern.db")
    connection.execute("PRAGMA foreign_keys=OFF")
    connection.execute(
        "INSERT INTO messages (chat_id, position, role, name, active_swipe, swipe_count, extra,"
        " created_at) VALUES (4242, 0, 'user', 'U', 0, 1, '{', '2026-01-01')"
    )
    connection.commit()
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    before = database_bytes(data_dir)
    code, stdout, _ = run(data_dir, "doctor", "--json")
    assert code == 1
    report = json.loads(stdout)
    checks = {finding["check"] for finding in report["findings"]}
    assert "messages without their chat" in checks
    assert "messages without their shown swipe" in checks
    assert "broken JSON in messages.extra" in checks
    assert any("SQLite integrity" in c for c in checks)  # the foreign-key check
    assert database_bytes(data_dir) == before


@pytest.mark.parametrize("args", [["restore", "missing.zip"], ["doctor"], ["backup"]])
def test_clear_errors_without_data(tmp_path: Path, args: list[str]) -> None:
    code, _, err = run(tmp_path / "nothing", *args)
    assert code == 1 and err.startswith("error: ")
    assert not (tmp_path / "nothing").exists()
