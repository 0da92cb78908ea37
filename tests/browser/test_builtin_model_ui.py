"""The first-run promise: open pytavern, type "Hello", press Enter, and the built-in model
answers, streaming, with no set-up at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytavern.server import create_app
from pytavern.settings import Settings
from tests.browser.conftest import DESKTOP, shoot
from tests.fakes.server import serve

pytestmark = [pytest.mark.browser, pytest.mark.model]


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("fresh-install")
    with serve(create_app(Settings(data_dir=data_dir))) as url:
        yield url + "/"


def test_hello_enter_streams_a_reply_from_the_built_in_model(
    browser: Any, fresh_server: str
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(fresh_server)
    box = page.locator("[data-testid=input]")
    box.wait_for(timeout=15_000)
    greeting = page.locator("[data-testid=message-text]").first.inner_text()
    assert "Wren" in greeting
    box.fill("Hello")
    box.press("Enter")
    page.wait_for_selector(".msg.streaming", timeout=60_000)
    page.wait_for_selector(".msg.streaming", state="detached", timeout=120_000)
    texts = page.locator("[data-testid=message-text]").all_inner_texts()
    assert texts[-2] == "Hello"
    assert texts[-1].strip(), texts
    assert page.locator(".msg").last.locator("[data-testid=incomplete]").count() == 0
    shoot(page, "first-run-chat")
    assert problems == []
    context.close()
