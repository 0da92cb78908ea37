"""Accessibility of the web UI: axe-core on every main screen, and keyboard-only walks."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Live, shoot
from tests.scripted import Script

pytestmark = pytest.mark.browser

SERIOUS = {"serious", "critical"}


def serious_violations(page: Any) -> list[str]:
    """The serious and critical axe-core violations on ``page`` as readable lines."""
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    results = axe_module.Axe().run(page)
    found: list[str] = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in SERIOUS:
            continue
        targets = [", ".join(node["target"]) for node in violation["nodes"]][:4]
        found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


def check(page: Any, name: str) -> list[str]:
    """Screenshot the screen at both sizes and return its serious violations, labelled."""
    page.wait_for_timeout(200)
    shoot(page, name)
    return [f"{name}: {line}" for line in serious_violations(page)]


def test_axe_finds_no_serious_violation_on_any_main_screen(page: Any, live: Live) -> None:
    problems: list[str] = []
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready] [data-testid=character-card]")
    problems += check(page, "a11y-gallery")
    page.click("[data-testid=create]")
    page.wait_for_selector("[role=dialog]")
    problems += check(page, "a11y-character-editor")
    page.keyboard.press("Escape")
    page.locator("[data-testid=character-card]").first.click()
    page.wait_for_selector("[data-testid=message]")
    problems += check(page, "a11y-chat")
    for name in ("connection", "settings", "worldinfo"):
        page.click(f"#nav-{name}")
        page.wait_for_selector("#panel .panel-body")
        page.wait_for_timeout(300)
        problems += check(page, f"a11y-panel-{name}")
        if name == "settings":
            for tab in ("prompt", "persona", "data"):
                page.click(f"[data-tab={tab}]")
                page.wait_for_timeout(300)
                problems += check(page, f"a11y-settings-{tab}")
        if name == "worldinfo":
            page.click("[data-testid=wi-new]")
            page.click("[data-testid=wi-add]")
            problems += check(page, "a11y-worldinfo-entry")
            page.click("[data-testid=wi-save]")
        page.click(f"#nav-{name}")
    live.book.scripts.append(Script(["Hello there."]))
    page.fill("[data-testid=input]", "Hi")
    page.click("[data-testid=send]")
    page.wait_for_selector(".msg.streaming", state="detached")
    page.wait_for_selector("[data-testid=send]")
    page.click("[data-testid=more]")
    problems += check(page, "a11y-more-menu")
    page.click("[data-testid=menu-prompt]")
    page.wait_for_selector("[data-testid=prompt-view]")
    problems += check(page, "a11y-prompt-view")
    page.keyboard.press("Escape")
    page.locator("[data-testid=chat-item] [aria-label='Rename chat']").first.click()
    problems += check(page, "a11y-rename-dialog")
    page.keyboard.press("Escape")
    page.locator("[data-testid=chat-item] [aria-label='Delete chat']").first.click()
    problems += check(page, "a11y-confirm-dialog")
    page.keyboard.press("Escape")
    page.goto(live.url + "#/characters")
    page.wait_for_selector("[data-testid=character-card]")
    page.locator("[data-testid=character-card] [aria-label^='Export']").first.click()
    problems += check(page, "a11y-export-dialog")
    page.keyboard.press("Escape")
    expect(page.locator("[role=dialog]")).to_have_count(0)
    assert problems == [], "\n".join(problems)
