"""Running the CLI in a test: ``invoker`` for a data folder, ``with_scripted`` adding the
scripted backend as the default connection."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from pytavern.cli import cli

Run = Callable[..., tuple[int, str, str]]
"""``run(*args, input=None)``: the exit code, stdout and stderr of ``pytavern ARGS``."""


def invoker(data_dir: Path) -> Run:
    """Run ``pytavern --data-dir DATA_DIR ...`` in-process."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["--data-dir", str(data_dir), *args], input=input)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def with_scripted(data_dir: Path) -> Run:
    """``invoker``, the scripted backend added as the default connection ``s``."""
    invoke = invoker(data_dir)
    code, _out, err = invoke("connections", "add", "s", "--api", "scripted", "--default")
    assert code == 0, err
    return invoke
