"""Browser fixtures: one headless Chromium and one real pytavern server per module.

The server runs in a thread on 127.0.0.1 (``tests.fakes.server.serve``) over its own data
directory, with the scripted provider registered so tests script the replies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from pytavern import providers
from pytavern.server import create_app
from pytavern.settings import Settings
from tests import scripted as scripted_module
from tests.fakes.server import serve

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Live:
    """A running pytavern server for browser tests."""

    url: str
    app: Starlette
    book: scripted_module.ScriptBook
    data_dir: Path
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not per session: Playwright's sync API keeps an event
    loop running in the main thread while it is open, which breaks every asyncio test after."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("browser-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(providers.registry(), "scripted", scripted_module.SPEC)
        app = create_app(Settings(data_dir=data_dir))
        store = app.state.engine.store
        store.save_connection(name="scripted", api="scripted")
        store.set_default_connection("scripted")
        scripted_module.BOOK.scripts.clear()
        with serve(app) as url:
            yield Live(url + "/", app, scripted_module.BOOK, data_dir)
        scripted_module.BOOK.scripts.clear()


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    tab = context.new_page()
    tab.set_default_timeout(8000)
    live.problems.clear()
    tab.on("pageerror", lambda error: live.problems.append(f"page error: {error}"))
    tab.on(
        "console",
        lambda msg: (
            live.problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    tab.on(
        "dialog",
        lambda dialog: (live.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()),
    )
    yield tab
    context.close()


def shoot(page: Any, name: str) -> None:
    """Screenshot ``page`` at desktop and phone size into artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(150)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"))
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(250)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"))
    page.set_viewport_size(DESKTOP)


def wait_for(check: Any, seconds: float = 8.0) -> None:
    """Poll ``check()`` until it is true (fails after ``seconds``)."""
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def open_prompt_settings(page: Any, box: str) -> None:
    """Open the Prompt tab of Settings and bring the box with data-testid ``box`` into view."""
    page.click("#nav-settings")
    page.click("[data-tab=prompt]")
    page.wait_for_selector(f"[data-testid={box}]")
    page.locator(f"[data-testid={box}]").scroll_into_view_if_needed()
