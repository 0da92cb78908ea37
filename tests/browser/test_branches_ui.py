"""Branches and checkpoints in the web UI: branch at a message and land in the new chat,
go back to the main chat, make a named checkpoint and follow its flag."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from pytavern.store import NewMessage
from tests.browser.conftest import Live

pytestmark = pytest.mark.browser


def test_branch_back_and_checkpoint(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    character = store.list_characters()[0]
    messages = [
        NewMessage(role="user" if i % 2 else "assistant", name="", swipes=[f"line {i}"])
        for i in range(5)
    ]
    main = store.import_chat(character.id, title="Saga", metadata={}, messages=messages)
    page.goto(live.url + f"#/chat/{main.id}")
    page.wait_for_selector("body[data-ready]")
    rows = page.locator("[data-testid=message]")
    expect(rows).to_have_count(5)
    rows.nth(2).hover()
    rows.nth(2).locator("[data-testid=branch]").click()
    expect(page.locator("[data-testid=chat-title]")).to_contain_text("Branch #2")
    expect(rows).to_have_count(3)
    assert page.url.split("#/chat/")[1] != str(main.id)
    page.click("[data-testid=back-to-main]")
    expect(rows).to_have_count(5)
    expect(page.locator("[data-testid=link-item]")).to_have_count(1)
    rows.nth(1).hover()
    rows.nth(1).locator("[data-testid=checkpoint]").click()
    page.fill("[data-testid=ask-text]", "Before the storm")
    page.click("[data-testid=ask-ok]")
    flag = rows.nth(1).locator("[data-testid=checkpoint-link]")
    expect(flag).to_be_visible()
    expect(page.locator("[data-testid=link-item]")).to_have_count(2)
    flag.click()
    expect(page.locator("[data-testid=chat-title]")).to_contain_text("Before the storm")
    expect(rows).to_have_count(2)
    assert live.problems == []
