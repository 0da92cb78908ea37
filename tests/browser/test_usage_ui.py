"""The usage panel's per-day chart, several keys and a fallback in the connection panel,
and the composer's profile switch, in headless Chromium."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from pytavern.engine.profiles import ConnectionProfile, save_profiles
from pytavern.store.usage import UsageRow, add_usage
from tests.browser.conftest import Live, shoot

DAY = 86400.0


def _row(at: float, connection: str, tokens: int, cost: float | None) -> UsageRow:
    return UsageRow(
        at=at,
        chat_id=None,
        connection=connection,
        api="claude",
        model="claude-sonnet-4-5",
        input_tokens=tokens,
        output_tokens=tokens // 4,
        cached_tokens=tokens // 2,
        cache_write_tokens=None,
        reasoning_tokens=None,
        duration=1.5,
        ttft=0.4,
        outcome="ok",
        cost=cost,
    )


def test_usage_panel_draws_a_bar_per_day(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    now = time.time()
    add_usage(store.engine, _row(now - 2 * DAY, "claude-main", 1200, 0.01))
    add_usage(store.engine, _row(now, "claude-main", 3000, 0.02))
    add_usage(store.engine, _row(now, "backup", 800, None))
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.click("#nav-usage")
    expect(page.locator("[data-testid=usage-chart]")).to_be_visible()
    assert page.locator("[data-testid=usage-day]").count() == 3  # the empty day between too
    table = page.locator("[data-testid=usage-table]")
    expect(table).to_contain_text("claude-main")
    expect(table).to_contain_text("backup")
    expect(table).to_contain_text("Total")
    shoot(page, "usage-panel")
    assert live.problems == []


def test_several_keys_and_a_fallback_are_saved_from_the_panel(page: Any, live: Live) -> None:
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.click("#nav-connection")
    page.wait_for_selector("[data-testid=connection-panel]")
    page.select_option("[data-testid=conn-profile]", "")
    page.select_option("[data-testid=conn-api]", "chat")
    page.select_option("[data-testid=conn-source]", "custom")
    page.fill("[data-testid=conn-name]", "multi")
    page.fill("[data-testid=conn-url]", "http://127.0.0.1:9/v1")  # refused at once: no network
    page.fill("[data-testid=conn-key]", "sk-first-key-0000000000aaaa")
    page.fill("[data-testid=conn-more-keys]", "sk-second-key-000000000bbbb")
    page.fill("[data-testid=conn-fallback]", "scripted")
    page.click("[data-testid=connect]")
    expect(page.locator("[data-testid=key-status]").first).to_be_visible()
    statuses = page.locator("[data-testid=key-list]").inner_text()
    assert "...aaaa" in statuses and "...bbbb" in statuses and "sk-first" not in statuses
    engine = live.app.state.engine
    assert engine.secrets.get_keys("multi") == [
        "sk-first-key-0000000000aaaa",
        "sk-second-key-000000000bbbb",
    ]
    assert engine.store.get_connection("multi").options["fallback"] == ["scripted"]
    page.click("[data-testid=save-profile]")
    page.fill("[data-testid=ask-text]", "multi-profile")
    page.click("[data-testid=ask-ok]")
    expect(page.get_by_text("Saved profile multi-profile")).to_be_visible()
    profiles = engine.store.get_setting("connection_profiles")
    assert profiles["multi-profile"]["connection"] == "multi"
    engine.store.set_default_connection("scripted")
    assert [p for p in live.problems if "Failed to load resource" not in p] == []


def test_the_composer_switches_a_chat_to_a_profile(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    save_profiles(store, {"plain": ConnectionProfile(name="plain", connection="scripted")})
    page.goto(live.url + "#/character/1")
    page.wait_for_selector("[data-testid=input]")
    switch = page.locator("[data-testid=chat-profile]")
    expect(switch).to_be_visible()
    switch.select_option("plain")
    chat = store.latest_chat(1)
    assert chat is not None
    deadline = time.monotonic() + 5
    while store.get_chat(chat.id).metadata.get("connection_profile") != "plain":
        assert time.monotonic() < deadline, "the chat was not switched"
        time.sleep(0.05)
    assert live.problems == []
