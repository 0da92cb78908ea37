"""A large library in the gallery: it opens with the first cards drawn, draws the rest as
they come near the screen, and search finds any character, drawn or not yet."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Live

LIBRARY = 300
"""Characters added (besides Wren): more than the gallery draws at once (120)."""


def test_a_large_library_opens_at_once_and_draws_the_rest_on_scroll(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    made = [
        store.add_character(
            {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": f"Keeper {i:03d}"}}
        ).id
        for i in range(LIBRARY)
    ]
    try:
        page.goto(live.url + "#/characters")
        cards = page.locator("[data-testid=character-card]")
        page.locator("[data-testid=drop-zone]").wait_for()
        assert cards.count() == 120  # the first part, the drop zone after it
        for _ in range(50):
            if cards.count() > LIBRARY:
                break
            page.locator("[data-testid=drop-zone]").scroll_into_view_if_needed()
            page.wait_for_timeout(50)
        assert cards.count() == LIBRARY + 1
        names = cards.evaluate_all("cards => cards.map(c => c.dataset.name)")
        assert names == sorted(names) and len(set(names)) == LIBRARY + 1

        page.goto(live.url + "#/characters")
        page.locator("[data-testid=drop-zone]").wait_for()
        page.fill("input.search", "Keeper 299")  # the last one, not drawn yet
        page.locator("[data-testid=character-card][data-name='Keeper 299']").wait_for()
        assert cards.count() == 1
        page.fill("input.search", "")
        page.locator("[data-testid=character-card]").nth(119).wait_for()
        assert cards.count() == 120
    finally:
        for character_id in made:
            store.delete_character(character_id)
    assert live.problems == []
