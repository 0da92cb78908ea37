"""The connection panel builds its API groups and backend options from /api/api-types."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Live, shoot

GROUPS = {"chat", "text", "kobold", "novelai", "horde", "local"}


def open_panel(page: Any, live: Live) -> None:
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.click("#nav-connection")
    page.wait_for_selector("[data-testid=connection-panel]")
    page.select_option("[data-testid=conn-profile]", "")


def sources(page: Any) -> list[str]:
    options = page.locator("[data-testid=conn-source] option")
    return [options.nth(i).get_attribute("value") for i in range(options.count())]


def test_every_group_is_populated_from_the_declared_specs(page: Any, live: Live) -> None:
    open_panel(page, live)
    group_options = page.locator("[data-testid=conn-api] option")
    groups = [group_options.nth(i).get_attribute("value") for i in range(group_options.count())]
    assert set(groups) >= GROUPS and groups[:2] == ["chat", "text"]
    assert page.locator("[data-testid=conn-api] option[disabled]").count() == 0
    found: dict[str, list[str]] = {}
    for group in groups:
        page.select_option("[data-testid=conn-api]", group)
        found[group] = sources(page)
        assert found[group], f"group {group} has no API types"
    assert {"kobold", "koboldcpp"} <= set(found["kobold"])
    assert found["horde"] == ["horde"] and found["novelai"] == ["novelai"]
    assert "openrouter" in found["chat"] and "ooba" in found["text"]
    assert live.problems == []


def test_backend_options_are_typed_inputs_and_are_saved(page: Any, live: Live) -> None:
    open_panel(page, live)
    page.select_option("[data-testid=conn-api]", "chat")
    page.select_option("[data-testid=conn-source]", "openrouter")
    box = page.locator("[data-testid=conn-options-box]")
    expect(box).to_be_visible()
    box.locator("summary").click()
    assert page.locator("[data-option=timeout_connect]").count() == 0  # shared ones hidden
    page.fill("[data-option=provider_order]", "Anthropic, Google")
    page.check("[data-option=middle_out]")
    page.fill("[data-testid=conn-name]", "routed")
    shoot(page, "connection-options")
    page.click("[data-testid=connect]")
    expect(page.locator(".diagnosis.bad")).to_be_visible()  # no key: refused, but saved
    record = live.app.state.engine.store.get_connection("routed")
    assert record.options == {"provider_order": ["Anthropic", "Google"], "middle_out": True}
    page.select_option("[data-testid=conn-api]", "text")
    page.select_option("[data-testid=conn-source]", "ollama")
    assert page.locator("[data-option=keep_alive]").get_attribute("placeholder") == "5m"
    live.app.state.engine.store.set_default_connection("scripted")
    assert [p for p in live.problems if "Failed to load resource" not in p] == []
