"""Running the server: pick the port, log paths only, open the browser."""

from __future__ import annotations

import errno
import gc
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from pytavern.engine.maintenance import DailyBackups
from pytavern.engine.server_lock import hold_server_lock
from pytavern.security.listen import check_listen
from pytavern.settings import Settings

PORT_ATTEMPTS = 50


class PathOnlyAccessLog(logging.Filter):
    """Drops query strings from uvicorn's access log (no secrets or content in logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the logged path to leave out its query string."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def choose_port(host: str, wanted: int, *, fixed: bool) -> int:
    """``wanted`` if free (or ``fixed``), otherwise the next free port above it."""
    if fixed:
        return wanted
    for port in range(wanted, wanted + PORT_ATTEMPTS):
        if port_is_free(host, port):
            return port
    return wanted


def browser_host(host: str) -> str:
    """The host name a browser on this machine should open."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def run_server(
    settings: Settings,
    *,
    port_fixed: bool = False,
    open_browser: bool = True,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve pytavern until interrupted."""
    collecting = gc.isenabled()
    gc.disable()  # until start-up has made its objects (see _freeze_startup_objects)
    try:
        server, url, port = _prepared_server(settings, port_fixed=port_fixed, echo=echo)
    except BaseException:
        if collecting:
            gc.enable()
        raise
    _freeze_startup_objects(collecting)
    echo(f"pytavern is running at {url}  (Ctrl-C to stop)")
    if open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    backups = DailyBackups(settings)
    with hold_server_lock(settings.data_dir, port):
        backups.start()
        try:
            server.run()
        finally:
            backups.stop()


def _prepared_server(
    settings: Settings, *, port_fixed: bool, echo: Callable[[str], None]
) -> tuple[Any, str, int]:
    """The uvicorn server for ``settings`` (not started), the URL to open and its port."""
    import uvicorn

    from pytavern.server.app import create_app

    check_listen(settings.host, settings.protection())
    port = choose_port(settings.host, settings.port, fixed=port_fixed)
    if port != settings.port:
        echo(f"Port {settings.port} is taken; using {port} instead.")
    url = f"http://{browser_host(settings.host)}:{port}/"
    app = create_app(settings.model_copy(update={"port": port}))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        log_level="info",
        access_log=settings.access_log,
        ws="none",  # no WebSocket routes: their library is not even imported
    )
    logging.getLogger("uvicorn.access").addFilter(PathOnlyAccessLog())
    return _stopping_server(uvicorn.Server)(config), url, port


def _stopping_server(base: type[Any]) -> type[Any]:
    """uvicorn's server that stops running generations when shutdown begins: their open
    streams end then (each with ``finished: cancelled``), and their replies are kept,
    marked incomplete, while the database is still open."""

    class StoppingServer(base):  # type: ignore[misc]
        async def shutdown(self, sockets: Any = None) -> None:
            app = self.config.app
            await app.state.generations.aclose()
            await super().shutdown(sockets=sockets)

    return StoppingServer


def _freeze_startup_objects(collecting: bool) -> None:
    """Keep the objects made at start-up (modules, routes, schemas) out of garbage
    collection, and collect again if it was on: every collection would walk them again,
    and the long ones landed on requests as milliseconds of delay. Start-up runs with
    collection paused and makes next to no garbage, so none is collected first (a full
    collection there took ~0.1 s of the start)."""
    gc.freeze()
    if collecting:
        gc.enable()


def _open_when_started(server: object, url: str) -> None:
    import time
    import webbrowser

    for _ in range(200):
        if getattr(server, "started", False):
            webbrowser.open(url)
            return
        time.sleep(0.05)
