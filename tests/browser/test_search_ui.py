"""The search box: type a word, see the messages of every chat holding it, click one and the
chat opens scrolled to it (an old message of a long chat included)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from pytavern.store import NewMessage
from tests.browser.conftest import Live

pytestmark = pytest.mark.browser


def test_search_opens_the_chat_at_the_message(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    character = store.list_characters()[0]
    messages = [
        NewMessage(role="user" if i % 2 == 0 else "assistant", name="", swipes=[f"filler {i}"])
        for i in range(800)
    ]
    messages[3] = NewMessage(role="assistant", name=character.name, swipes=["the obsidian gate"])
    old = store.import_chat(character.id, title="Long one", metadata={}, messages=messages)
    other = store.import_chat(
        character.id,
        title="Short one",
        metadata={},
        messages=[NewMessage(role="user", name="", swipes=["an obsidian knife"])],
    )
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.click("[data-testid=nav-search]")
    page.fill("[data-testid=search-input]", "obsidian")
    hits = page.locator("[data-testid=search-hit]")
    expect(hits).to_have_count(2)
    expect(hits.first).to_contain_text("an obsidian knife")  # newest first
    expect(hits.nth(1)).to_contain_text("Long one")
    page.fill("[data-testid=search-input]", "obsidian gate")
    expect(hits).to_have_count(1)
    hits.first.click()
    target = page.locator(".msg.found")
    expect(target).to_contain_text("the obsidian gate")
    expect(target).to_be_in_viewport()
    assert page.url.endswith(f"#/chat/{old.id}/m/{store.history(old.id)[3].id}")
    page.click("[data-testid=nav-search]")
    page.fill("[data-testid=search-input]", "nothingmatcheshere")
    expect(page.locator("[data-testid=search-empty]")).to_be_visible()
    assert other.id != old.id
    assert live.problems == []
