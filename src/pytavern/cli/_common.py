"""What every command shares: ``--data-dir``, opening the services, printing errors."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from pytavern.engine.services import Services
from pytavern.errors import PytavernError
from pytavern.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")
_META_KEY = "pytavern.data_dir"


def _remember_data_dir(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.meta[_META_KEY] = value


def data_dir_option(command: Callable[P, R]) -> Callable[P, R]:
    """Add ``--data-dir`` to a command (it also honours ``PYTAVERN_DATA_DIR``)."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        is_eager=True,
        callback=_remember_data_dir,
        help="Where pytavern keeps its data (default: PYTAVERN_DATA_DIR or the user data dir).",
    )(command)


def json_option(command: Callable[P, R]) -> Callable[P, R]:
    """Add ``--json`` (machine-readable output) to a command."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)


def current_settings() -> Settings:
    """Settings for this invocation, with ``--data-dir`` applied."""
    ctx = click.get_current_context()
    data_dir = ctx.meta.get(_META_KEY)
    return Settings(data_dir=data_dir) if data_dir is not None else Settings()


@asynccontextmanager
async def open_services() -> AsyncIterator[Services]:
    """Open the engine's services for this invocation and close them afterwards."""
    services = Services.open(current_settings())
    try:
        yield services
    finally:
        await services.aclose()


def print_json(value: Any) -> None:
    """Print one JSON value on stdout."""
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


def fail(error: PytavernError, *, as_json: bool = False) -> None:
    """Report ``error`` in one line (or as JSON) and exit with status 1."""
    if as_json:
        print_json({"error": error.to_dict()})
    else:
        click.echo(f"error: {error}", err=True)
    sys.exit(1)


def run_async(
    function: Callable[P, Coroutine[Any, Any, None]],
) -> Callable[P, None]:
    """Run an async command body, turning pytavern errors into one-line messages."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            asyncio.run(function(*args, **kwargs))
        except PytavernError as error:
            fail(error, as_json=bool(kwargs.get("as_json")))
        except KeyboardInterrupt:
            click.echo("\n[stopped]", err=True)
            sys.exit(130)

    return wrapper
