"""Quick replies in the web UI: import a SillyTavern set from the menu, its buttons show
above the input; a plain button sends and gets a reply, /setinput fills the box, a
/send-only script adds a message without a reply, a button with an unsupported command
is disabled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Live
from tests.scripted import Script

pytestmark = pytest.mark.browser

SET = {
    "version": 2,
    "name": "UI moves",
    "qrList": [
        {"id": 1, "label": "Wave", "message": "*waves at {{char}}*"},
        {"id": 2, "label": "Draft", "message": "/setinput Dear {{char}}, {{input}}"},
        {"id": 3, "label": "Note", "message": "/send (a quiet note)"},
        {"id": 4, "label": "Bad", "message": "/run x"},
    ],
}


def test_quick_reply_buttons(page: Any, live: Live, tmp_path: Path) -> None:
    source = tmp_path / "moves.json"
    source.write_text(json.dumps(SET))
    live.book.scripts.append(Script(["*waves back*"]))
    page.goto(live.url + "#/character/1")
    page.wait_for_selector("body[data-ready]")
    page.click("[data-testid=more]")
    with page.expect_file_chooser() as chooser:
        page.click("[data-testid=menu-import-qr]")
    chooser.value.set_files(str(source))
    buttons = page.locator("[data-testid=quick-reply]")
    expect(buttons).to_have_count(4)
    texts = page.locator("[data-testid=message-text]")
    before = texts.count()
    buttons.nth(0).click()
    expect(texts).to_have_count(before + 2)
    expect(texts.nth(before)).to_have_text("waves at Wren")  # markdown: *…* is emphasis
    expect(texts.nth(before + 1)).to_have_text("waves back")
    page.fill("[data-testid=input]", "hello")
    buttons.nth(1).click()
    expect(page.locator("[data-testid=input]")).to_have_value("Dear Wren, hello")
    buttons.nth(2).click()
    expect(texts).to_have_count(before + 3)
    expect(texts.last).to_have_text("(a quiet note)")
    expect(buttons.nth(3)).to_be_disabled()  # refused before it can be pressed
    assert "/run" in (buttons.nth(3).get_attribute("title") or "")
    assert live.problems == []
