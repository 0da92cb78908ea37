"""Most API routes are loaded after the server starts answering (issue 13's cold start)."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.routing import BaseRoute, Mount

from pytavern.engine.services.characters import CharacterService
from pytavern.server import app as app_module
from pytavern.server import create_app
from pytavern.settings import Settings


async def test_health_and_the_web_ui_answer_while_the_other_routes_load(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    load = app_module.deferred_routes

    def slow_load(state: State) -> Sequence[BaseRoute]:
        assert gate.wait(10), "the test never opened the gate"
        return load(state)

    monkeypatch.setattr(app_module, "deferred_routes", slow_load)
    app = create_app(Settings(data_dir=data_dir))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            assert (await http.get("/api/health")).status_code == 200
            assert (await http.get("/")).status_code == 200
            settings = asyncio.create_task(http.get("/api/settings"))
            schema = asyncio.create_task(http.get("/openapi.json"))
            await asyncio.sleep(0.2)
            assert not settings.done() and not schema.done()
            assert (await http.get("/api/health")).status_code == 200  # the loop still serves

            gate.set()
            assert (await settings).status_code == 200
            paths = (await schema).json()["paths"]
            assert "/api/settings" in paths and "/api/health" in paths
            assert (await http.get("/api/no-such-thing")).status_code == 404
    finally:
        gate.set()
        await app.state.engine.aclose()
    assert isinstance(app.router.routes[-1], Mount)  # the web UI's files still come last


async def test_the_first_request_may_need_any_route(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/characters")
    assert first.status_code == 200, first.text
    assert first.json()[0]["name"]


def test_the_server_starts_without_importing_fastapi(data_dir: Path) -> None:
    """The server's app, its eager routes and its start need no FastAPI (a fifth of a cold
    start): a module that brings it back into the start shows up here."""
    code = (
        "import sys, asyncio\n"
        "from pytavern.server.serve import run_server\n"
        "from pytavern.server.app import create_app\n"
        "from pytavern.settings import Settings\n"
        "async def start():\n"
        f"    app = create_app(Settings(data_dir={str(data_dir)!r}))\n"
        "    async with app.router.lifespan_context(app):\n"
        "        pass\n"
        "asyncio.run(start())\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'fastapi'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


async def test_a_bug_in_an_api_route_is_answered_in_json_and_logged_once(
    app: Starlette, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The API app passes an unexpected error on to the server's app, which answers it in
    the one error shape and logs it once (not once per app)."""

    def fails(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(CharacterService, "all", fails)
    caplog.set_level(logging.ERROR, logger="pytavern.server")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # as uvicorn
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        answer = await http.get("/api/characters")
    await app.state.engine.aclose()
    assert answer.status_code == 500
    assert answer.json()["error"]["type"] == "InternalError"
    logged = [r for r in caplog.records if r.name == "pytavern.server"]
    assert len(logged) == 1 and "unexpected" in logged[0].getMessage()
