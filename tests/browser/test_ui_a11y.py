"""Accessibility of the web UI: axe-core on every main screen, and keyboard-only walks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
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
    page.click("[data-testid=more]")
    page.click("[data-testid=menu-chat-settings]")
    page.wait_for_selector("[data-testid=chat-settings]")
    problems += check(page, "a11y-chat-settings")
    page.fill("[data-testid=chat-note]", "unsaved")
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-testid=choice-discard]")
    problems += check(page, "a11y-unsaved-question")
    page.click("[data-testid=choice-discard]")
    expect(page.locator("[role=dialog]")).to_have_count(0)
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
    wren = live.app.state.engine.store.list_characters()[0].name
    group = live.app.state.services.groups.create("Duo", [wren])
    page.goto(live.url + f"#/group/{group.id}")
    page.wait_for_selector("[data-testid=group-side-member]")
    problems += check(page, "a11y-group-view")
    assert problems == [], "\n".join(problems)


def tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until the focus is on ``selector`` (fails when it never gets there)."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def choose_file_by_keyboard(page: Any, selector: str) -> Any:
    """Tab to ``selector`` and press Enter until a file chooser opens. A busy machine can
    redraw the page between the Tab and the Enter (the gallery refreshes its list), which
    drops the focus; a second go tests the same thing."""
    for attempt in range(3):
        tab_to(page, selector)
        try:
            with page.expect_file_chooser(timeout=4000) as chooser:
                page.keyboard.press("Enter")
            return chooser.value
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def test_keyboard_only_send_swipe_stop_panels_and_import(page: Any, live: Live) -> None:
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready] [data-testid=character-card]")
    tab_to(page, "[data-testid=character-link]")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=message]")
    expect(page.locator("[data-testid=input]")).to_be_focused()
    tab_to(page, "[data-testid=new-chat]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=input]")).to_be_focused()

    live.book.scripts.append(Script(["Keyboard ", "reply."]))
    page.keyboard.type("Hello by keyboard")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=message-text]").last).to_have_text("Keyboard reply.")
    page.wait_for_selector("[data-testid=send]")
    live.book.scripts.append(Script(["Another ", "reply."]))
    page.keyboard.press("ArrowRight")  # the message box is empty: arrows swipe
    expect(page.locator("[data-testid=swipe-counter]")).to_have_text("2/2")
    page.wait_for_selector("[data-testid=send]")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("[data-testid=swipe-counter]")).to_have_text("1/2")

    live.book.scripts.append(Script([f"word{i} " for i in range(300)], delay=0.03))
    tab_to(page, "[data-testid=input]")
    page.keyboard.type("Talk a lot")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=message-text]").last).to_contain_text("word2")
    tab_to(page, "[data-testid=stop]")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=send]")
    expect(page.locator(".msg").last.locator("[data-testid=incomplete]")).to_have_count(1)

    for name in ("connection", "settings", "worldinfo"):
        tab_to(page, f"#nav-{name}")
        page.keyboard.press("Enter")
        expect(page.locator("#panel")).to_be_visible()
        expect(page.locator("#panel :focus")).to_have_count(1)
        page.keyboard.press("Escape")
        expect(page.locator("#panel")).to_be_hidden()
        expect(page.locator(f"#nav-{name}")).to_be_focused()

    tab_to(page, "#nav-characters")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=gallery]")
    card = {"name": "Keyed", "description": "Imported by keyboard.", "first_mes": "Hi."}
    chooser = choose_file_by_keyboard(page, "[data-testid=import]")
    chooser.set_files(
        files=[
            {
                "name": "keyed.json",
                "mimeType": "application/json",
                "buffer": json.dumps(card).encode(),
            }
        ]
    )
    expect(page.locator("[data-testid=character-card][data-name='Keyed']")).to_have_count(1)
    assert live.problems == []
