"""The regex panel: import a SillyTavern file, edit a script with the live test box, save;
a display-only script changes what the chat shows, not what is stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Live
from tests.scripted import Script

pytestmark = pytest.mark.browser

SHOUT = {
    "id": "ui-1",
    "scriptName": "Shout",
    "findRegex": "/quiet/g",
    "replaceString": "LOUD",
    "placement": [2],
    "markdownOnly": True,
    "runOnEdit": False,
}


def test_import_edit_test_and_save(page: Any, live: Live, tmp_path: Path) -> None:
    source = tmp_path / "shout.json"
    source.write_text(json.dumps(SHOUT))
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.click("#nav-regex")
    page.locator("[data-testid=regex] input[type=file]").set_input_files(str(source))
    expect(page.locator("[data-testid=regex-item]")).to_have_count(1)
    expect(page.locator("[data-testid=regex-name]")).to_have_value("Shout")
    page.fill("[data-testid=regex-test-input]", "a quiet night, quiet")
    expect(page.locator("[data-testid=regex-test-output]")).to_have_text("a LOUD night, LOUD")
    page.fill("[data-testid=regex-replace]", "{{match}}!")
    expect(page.locator("[data-testid=regex-test-output]")).to_have_text("a quiet! night, quiet!")
    page.fill("[data-testid=regex-find]", "/(/")
    expect(page.locator("[data-testid=regex-test-output]")).to_contain_text("not a valid")
    page.fill("[data-testid=regex-find]", "/quiet/g")
    page.click("[data-testid=regex-new]")
    page.fill("[data-testid=regex-name]", "Second")
    page.fill("[data-testid=regex-find]", "/x/")
    page.click("[data-testid=regex-save]")
    expect(page.locator("[data-testid=toast]", has_text="Regex scripts saved")).to_be_visible()
    expect(page.locator("[data-testid=regex-item]")).to_have_count(2)
    with live.app.state.engine.store.queries() as queries:
        stored = json.loads(queries.setting_json("regex") or "{}")
    assert [s["scriptName"] for s in stored["scripts"]] == ["Shout", "Second"]
    assert stored["scripts"][0]["replaceString"] == "{{match}}!"
    assert live.problems == []


def test_display_only_script_changes_what_the_chat_shows(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    store.set_setting("regex", {"scripts": [SHOUT], "allowed_characters": [], "preset": None})
    live.book.scripts.append(Script(["so quiet here"]))
    page.goto(live.url + "#/character/1")
    page.wait_for_selector("body[data-ready]")
    page.fill("textarea[data-testid=input]", "hello")
    page.click("[data-testid=send]")
    last = page.locator("[data-testid=message-text]").last
    expect(last).to_have_text("so LOUD here")
    chat_id = store.list_chats(1)[0].id
    assert store.history(chat_id)[-1].text == "so quiet here"
    assert live.problems == []


def test_a_characters_own_scripts(page: Any, live: Live) -> None:
    page.goto(live.url + "#/character/1")
    page.wait_for_selector("body[data-ready]")
    page.click("#nav-regex")
    page.select_option("[data-testid=regex-scope]", "character")
    expect(page.locator("[data-testid=regex-allowed]")).not_to_be_checked()
    page.click("[data-testid=regex-new]")
    page.fill("[data-testid=regex-name]", "Own")
    page.fill("[data-testid=regex-find]", "/{{char}}/g")
    page.select_option("[aria-label='Macros in the pattern']", "1")
    page.fill("[data-testid=regex-replace]", "W.")
    page.fill("[data-testid=regex-test-input]", "Wren waves")
    expect(page.locator("[data-testid=regex-test-output]")).to_have_text("W. waves")
    page.click("[data-testid=regex-save]")
    expect(page.locator("[data-testid=toast]", has_text="Regex scripts saved")).to_be_visible()
    expect(page.locator("[data-testid=regex-item]")).to_have_count(1)
    page.check("[data-testid=regex-allowed]")
    store = live.app.state.engine.store
    card = store.get_character(1).card
    assert [s["scriptName"] for s in card["data"]["extensions"]["regex_scripts"]] == ["Own"]
    expect(page.locator("[data-testid=regex-allowed]")).to_be_checked()
    for _ in range(50):  # the checkbox saves in the background; give it up to 5 s
        with store.queries() as queries:
            if 1 in json.loads(queries.setting_json("regex") or "{}")["allowed_characters"]:
                break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the allowed character was never stored")
    assert live.problems == []
