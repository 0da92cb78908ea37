"""Settings > Prompt > Recall in the web UI: turning recall on and shaping it saves the settings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Live, open_prompt_settings, shoot, wait_for

pytestmark = pytest.mark.browser


def test_recall_settings_are_saved_as_they_are_changed(page: Any, live: Live) -> None:
    preferences = live.app.state.services.preferences
    page.goto(live.url + "#/characters")
    page.wait_for_selector("[data-testid=character-card]")  # the app is up
    open_prompt_settings(page, "recall-settings")
    assert page.input_value("[data-testid=recall-template]") == "Past events:\n{{text}}"
    try:
        page.check("[data-testid=recall-enabled]")
        page.fill("[data-testid=recall-results]", "5")
        page.locator("[data-testid=recall-results]").press("Tab")
        page.select_option("[data-testid=recall-position]", "in_prompt")
        page.fill("[data-testid=recall-template]", "Earlier:\n{{text}}")
        wait_for(lambda: preferences.get().recall.template == "Earlier:\n{{text}}")
        recall = preferences.get().recall
        assert (recall.enabled, recall.results, recall.position) == (True, 5, "in_prompt")
        shoot(page, "recall-settings")
    finally:
        preferences.change({"recall": {"enabled": False, "results": 3, "position": "in_chat"}})
        preferences.change({"recall": {"template": "Past events:\n{{text}}"}})
    assert live.problems == []
