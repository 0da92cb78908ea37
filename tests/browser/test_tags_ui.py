"""The gallery's tag chips: choosing tags shows only the characters carrying all of them."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from pytavern.formats.cards import new_card
from tests.browser.conftest import Live

pytestmark = pytest.mark.browser


def test_tag_chips_filter_the_gallery(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    store.add_character(new_card("Tag A", tags=["castle", "night"]).raw)
    store.add_character(new_card("Tag B", tags=["Castle"]).raw)
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    cards = page.locator("[data-testid=character-card]")
    total = cards.count()
    assert total >= 3
    chips = page.locator("[data-testid=tag-chip]")
    expect(chips.first).to_have_text("castle")  # most used first
    chips.first.click()
    expect(cards).to_have_count(2)
    page.locator("[data-testid=tag-chip]", has_text="night").click()
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-name", "Tag A")
    chips.first.click()
    page.locator("[data-testid=tag-chip]", has_text="night").click()
    expect(cards).to_have_count(total)
    assert live.problems == []
