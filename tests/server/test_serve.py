"""``pytavern serve``: port choice, the path-only access log, bare ``pytavern``."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pytavern.cli import cli
from pytavern.errors import ConfigError
from pytavern.server import serve as serve_module
from pytavern.server.serve import PathOnlyAccessLog, choose_port, run_server
from pytavern.settings import Settings


def test_a_taken_port_moves_to_the_next_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        chosen = choose_port("127.0.0.1", port, fixed=False)
        assert chosen > port
        assert choose_port("127.0.0.1", port, fixed=True) == port


def test_access_log_drops_query_strings() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/x?key=sk-secret", "1.1", 200),
        None,
    )
    assert PathOnlyAccessLog().filter(record)
    assert "sk-secret" not in record.getMessage() and "/api/x" in record.getMessage()


def test_bare_pytavern_runs_serve(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(settings: Settings, **kwargs: Any) -> None:
        calls.append({"settings": settings, **kwargs})

    monkeypatch.setattr(serve_module, "run_server", fake_run)
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["serve", "--port", "8123", "--no-browser"])
    assert result.exit_code == 0, result.output
    assert calls[0]["open_browser"] is True and calls[0]["port_fixed"] is False
    assert calls[0]["settings"].data_dir == data_dir
    assert calls[1]["settings"].port == 8123 and calls[1]["open_browser"] is False
    assert calls[1]["port_fixed"] is True
    assert calls[1]["settings"].access_log is False  # requests are not logged unless asked
    result = CliRunner().invoke(cli, ["serve", "--access-log", "--no-browser"])
    assert result.exit_code == 0, result.output
    assert calls[2]["settings"].access_log is True


def test_listening_on_the_network_unprotected_is_refused(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no protection"):
        run_server(Settings(data_dir=data_dir, host="0.0.0.0"), open_browser=False)
