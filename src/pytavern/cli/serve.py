"""``pytavern serve``: the web UI and HTTP API (what bare ``pytavern`` runs)."""

from __future__ import annotations

import sys

import click

from pytavern.cli._common import current_settings, data_dir_option
from pytavern.errors import PytavernError


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000, or the next free one).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@click.option("--access-log", is_flag=True, help="Log each request's method, path and status.")
@data_dir_option
def serve_command(host: str | None, port: int | None, no_browser: bool, access_log: bool) -> None:
    """Run the web UI and API on this machine."""
    from pytavern.server.serve import run_server

    settings = current_settings()
    updates: dict[str, object] = {}
    if host:
        updates["host"] = host
    if port is not None:
        updates["port"] = port
    if access_log:
        updates["access_log"] = True
    try:
        run_server(
            settings.model_copy(update=updates),
            port_fixed=port is not None,
            open_browser=not no_browser,
            echo=click.echo,
        )
    except PytavernError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
