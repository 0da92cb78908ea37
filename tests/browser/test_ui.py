"""The web UI in headless Chromium against a real pytavern server (scripted replies)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from pytavern.formats.cards import card_from_dict, write_card_png
from pytavern.formats.png import solid_png
from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS, Live, shoot
from tests.scripted import Script

pytestmark = pytest.mark.browser

PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
KEY = "sk-browser-test-0123456789SECR"


def open_chat(page: Any, live: Live, name: str) -> None:
    page.goto(live.url + "#/characters")
    page.locator(f"[data-testid=character-card][data-name='{name}']").click()
    page.wait_for_selector("[data-testid=message]")


def new_chat(page: Any) -> None:
    before = page.locator("[data-testid=chat-item]").count()
    page.click("[data-testid=new-chat]")
    expect(page.locator("[data-testid=chat-item]")).to_have_count(before + 1)


def send(page: Any, text: str) -> None:
    page.fill("[data-testid=input]", text)
    page.click("[data-testid=send]")


def fill_custom_connection(page: Any, live: Live, name: str, url: str, key: str) -> None:
    """Open the connection panel and fill in a new custom (OpenAI-compatible) connection."""
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.click("#nav-connection")
    page.select_option("[data-testid=conn-profile]", "")
    page.select_option("[data-testid=conn-api]", "chat")
    page.select_option("[data-testid=conn-source]", "custom")
    page.fill("[data-testid=conn-name]", name)
    page.fill("[data-testid=conn-url]", url)
    page.fill("[data-testid=conn-key]", key)


def wait_idle(page: Any) -> None:
    page.wait_for_selector("[data-testid=send]")
    page.wait_for_selector(".msg.streaming", state="detached")


def last_text(page: Any) -> str:
    text: str = page.locator("[data-testid=message-text]").last.inner_text()
    return text


def test_import_a_png_card_by_file_upload(page: Any, live: Live) -> None:
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {"name": "Ash", "description": "A quiet ranger.", "first_mes": "*nods*"},
    }
    png = write_card_png(card_from_dict(card), solid_png(96, 96, (90, 120, 200)))
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.set_input_files(
        "[data-testid=file-input]",
        files=[{"name": "ash.png", "mimeType": "image/png", "buffer": png}],
    )
    page.wait_for_selector("[data-testid=character-card][data-name='Ash'] img")
    assert page.locator("[data-testid=character-card]").count() == 2
    shoot(page, "gallery")
    page.click("[data-testid=create]")
    page.fill("input[name=name]", "Iris")
    page.fill("textarea[name=description]", "A lighthouse keeper who talks to gulls.")
    shoot(page, "character-editor")
    page.click("[data-testid=save-character]")
    expect(page.locator("[data-testid=character-card]")).to_have_count(3)
    assert live.problems == []


def test_stream_stop_continue_swipe_regenerate_edit_impersonate(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    new_chat(page)
    live.book.scripts.append(Script(["Hello ", "**traveller**", ", sit *down*."], delay=0.05))
    send(page, "Hi there")
    page.wait_for_selector(".msg.streaming")
    wait_idle(page)
    assert page.locator("[data-testid=message-text] strong").last.inner_text() == "traveller"
    assert last_text(page) == "Hello traveller, sit down."

    live.book.scripts.append(Script([f"word{i} " for i in range(300)], delay=0.03))
    send(page, "Tell me everything")
    expect(page.locator("[data-testid=message-text]").last).to_contain_text("word3")
    page.click("[data-testid=stop]")
    wait_idle(page)
    assert page.locator(".msg").last.locator("[data-testid=incomplete]").count() == 1
    stopped = last_text(page)
    assert stopped.startswith("word0 word1 word2 word3") and "word299" not in stopped

    live.book.scripts.append(Script([" The end."]))
    page.click("[data-testid=more]")
    page.click("[data-testid=menu-continue]")
    wait_idle(page)
    assert last_text(page).endswith("The end.")
    assert page.locator(".msg").last.locator("[data-testid=incomplete]").count() == 0

    live.book.scripts.append(Script(["A second ", "answer."]))
    page.locator("[data-testid=swipe-right]").click()
    wait_idle(page)
    assert page.locator("[data-testid=swipe-counter]").inner_text() == "2/2"
    assert last_text(page) == "A second answer."
    page.locator("[data-testid=swipe-left]").click()
    expect(page.locator("[data-testid=swipe-counter]")).to_have_text("1/2")
    assert last_text(page).endswith("The end.")

    live.book.scripts.append(Script(["Regenerated."]))
    page.click("[data-testid=more]")
    page.click("[data-testid=menu-regenerate]")
    wait_idle(page)
    assert page.locator("[data-testid=swipe-counter]").inner_text() == "3/3"
    assert last_text(page) == "Regenerated."

    user_message = page.locator(".msg.user").last
    user_message.hover()
    user_message.locator("[data-testid=edit]").click()
    page.fill("[data-testid=edit-box]", "Tell me *everything*, please")
    page.click("[data-testid=save-edit]")
    page.wait_for_selector(".msg.user em")
    assert page.locator(".msg.user").last.inner_text().endswith("Tell me everything, please")

    live.book.scripts.append(Script(["I lean ", "on the bar."]))
    page.click("[data-testid=more]")
    page.click("[data-testid=menu-impersonate]")
    expect(page.locator("[data-testid=input]")).to_have_value("I lean on the bar.")
    page.wait_for_selector("[data-testid=send]")
    shoot(page, "chat")
    page.set_viewport_size(PHONE)
    page.click("#btn-sidebar")
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / "chat-list-phone.png"))
    page.set_viewport_size(DESKTOP)
    assert live.problems == []


def test_message_delete_and_chat_list(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    new_chat(page)
    live.book.scripts.append(Script(["Short reply."]))
    send(page, "One")
    wait_idle(page)
    count = page.locator("[data-testid=message]").count()
    last = page.locator("[data-testid=message]").last
    last.hover()
    last.locator("[data-testid=delete]").click()
    page.click("[data-testid=confirm]")
    expect(page.locator("[data-testid=message]")).to_have_count(count - 1)
    assert page.locator("[data-testid=chat-item]").count() >= 2
    assert live.problems == []


def test_script_payloads_in_cards_and_replies_do_not_run(page: Any, live: Live) -> None:
    card = {"name": f"Mallory {PAYLOAD}", "description": PAYLOAD, "first_mes": PAYLOAD}
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.set_input_files(
        "[data-testid=file-input]",
        files=[
            {
                "name": "evil.json",
                "mimeType": "application/json",
                "buffer": json.dumps(card).encode(),
            }
        ],
    )
    page.wait_for_selector("[data-testid=character-card][data-name^='Mallory']")
    page.locator("[data-testid=character-card][data-name^='Mallory']").click()
    page.wait_for_selector("[data-testid=message]")
    live.book.scripts.append(Script(["Look: ", PAYLOAD, " **bold** [x](javascript:alert(1))"]))
    send(page, PAYLOAD)
    wait_idle(page)
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#main script, #main img[src=x]").count() == 0
    texts = page.locator("[data-testid=message-text]").all_inner_texts()
    assert all("<script>" in text for text in texts)
    assert page.locator("a[href^='javascript']").count() == 0
    assert live.problems == []


def test_connection_panel_connects_lists_models_and_hides_the_key(page: Any, live: Live) -> None:
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.click("#nav-connection")
    page.wait_for_selector("[data-testid=connection-panel]")
    page.select_option("[data-testid=conn-profile]", "")
    page.select_option("[data-testid=conn-api]", "chat")
    page.select_option("[data-testid=conn-source]", "scripted")
    page.fill("[data-testid=conn-name]", "panel-made")
    page.fill("[data-testid=conn-key]", KEY)
    page.click("[data-testid=connect]")
    page.wait_for_selector(".diagnosis.ok")
    assert "scripted provider ready" in page.inner_text("[data-testid=diagnosis]")
    assert page.inner_text("[data-testid=key-state]").strip() == "set …SECR"
    expect(page.locator("[data-testid=conn-model]")).to_have_value("scripted-1")
    assert re.search(r"ok", page.get_attribute("#conn-dot", "class") or "")
    shoot(page, "connection")
    html = page.content()
    assert KEY not in html and KEY[:-4] not in html
    live.app.state.engine.store.set_default_connection("scripted")
    assert live.problems == []


def test_settings_world_info_and_prompt_view(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    page.click("#nav-settings")
    page.wait_for_selector("[data-testid=samplers] [data-sampler=temperature]")
    page.fill("[data-testid=context-size]", "8192")
    page.locator("[data-testid=context-size]").dispatch_event("change")
    expect(page.locator("[data-testid=settings-saved]")).to_have_text("Saved")
    settings = live.app.state.engine.store.get_setting("generation")
    assert settings["context_size"] == 8192
    shoot(page, "settings")
    page.click("#nav-worldinfo")
    page.wait_for_selector("[data-testid=worldinfo]")
    page.click("[data-testid=wi-new]")
    page.click("[data-testid=wi-add]")
    page.fill("[data-testid=wi-keys]", "lantern")
    page.fill("[data-testid=wi-content]", "The lantern over the door never goes out.")
    page.click("[data-testid=wi-save]")
    expect(page.get_by_text("Saved Lorebook 1")).to_be_visible()
    book = live.app.state.engine.store.list_lorebooks()[0]
    assert book.data["entries"]["0"]["key"] == ["lantern"]
    page.check("[data-testid=wi-active]")
    expect(page.locator("[data-testid=wi-active]")).to_be_checked()
    shoot(page, "worldinfo")
    page.click("#nav-worldinfo")
    new_chat(page)
    live.book.scripts.append(Script(["It is always lit."]))
    send(page, "Is the lantern over the door lit?")
    wait_idle(page)
    page.click("[data-testid=more]")
    page.click("[data-testid=menu-prompt]")
    expect(page.locator("[data-testid=fired-entry]")).to_contain_text("never goes out")
    assert "tokens" in page.inner_text("[data-testid=prompt-view]")
    shoot(page, "prompt-view")
    page.keyboard.press("Escape")
    choose_a_bundled_instruct_template(page, live)
    assert live.problems == []


def choose_a_bundled_instruct_template(page: Any, live: Live) -> None:
    """Pick the bundled Alpaca template in the settings panel; the next text prompt uses it."""
    from tests.fakes import llamacpp
    from tests.fakes.server import FaultPlan, serve

    store, plan = live.app.state.engine.store, FaultPlan()
    page.click("#nav-settings")
    page.click("[data-tab=prompt]")
    page.select_option("[data-testid=pick-instruct]", "Alpaca")
    expect(page.locator("[data-testid=settings-saved]")).to_have_text("Saved")
    assert store.get_setting("generation")["instruct_template"] == "Alpaca"
    expect(page.locator("[data-testid=pick-sysprompt]")).to_have_value("Neutral - Chat")
    page.uncheck("[data-testid=prefer-character-prompt]")
    _wait_for_setting(store, "prefer_character_prompt", False)
    page.check("[data-testid=prefer-character-prompt]")
    _wait_for_setting(store, "prefer_character_prompt", True)
    page.click("[data-testid=view-instruct]")
    expect(page.locator("[data-testid=preset-view]")).to_contain_text("### Instruction:")
    page.keyboard.press("Escape")
    page.click("#nav-settings")
    with serve(llamacpp.create_app(plan)) as upstream:
        store.save_connection(name="llama", api="llamacpp", url=upstream)
        store.set_default_connection("llama")
        try:
            send(page, "Is the cellar door locked?")
            wait_idle(page)
        finally:
            store.set_default_connection("scripted")
    [prompt] = [r["json"]["prompt"] for r in plan.requests if r["path"] == "/completion"]
    assert "### Instruction:\nIs the cellar door locked?" in prompt


def _wait_for_setting(store: Any, key: str, value: object) -> None:
    """Wait (up to 5 s) until the debounced save has stored ``key`` as ``value``."""
    for _ in range(50):
        if store.get_setting("generation").get(key) == value:
            return
        time.sleep(0.1)
    raise AssertionError(f"{key} was not saved as {value!r}")


def test_connect_to_an_openai_compatible_backend_through_the_panel(page: Any, live: Live) -> None:
    from tests.fakes.openai_fake import DEFAULT_KEY, create_app
    from tests.fakes.server import FaultPlan, free_port, serve

    with serve(create_app(FaultPlan())) as upstream:
        refused = f"http://127.0.0.1:{free_port()}/v1"
        fill_custom_connection(page, live, "fake-openai", refused, DEFAULT_KEY)
        page.click("[data-testid=connect]")
        expect(page.locator(".diagnosis.bad")).to_be_visible()
        diagnosis = page.inner_text("[data-testid=diagnosis]")
        assert "127.0.0.1" in diagnosis and DEFAULT_KEY not in diagnosis
        shoot(page, "connection-failed")
        page.fill("[data-testid=conn-url]", f"{upstream}/v1")
        page.click("[data-testid=connect]")
        expect(page.locator(".diagnosis.ok")).to_be_visible()
        expect(page.locator("[data-testid=conn-model]")).to_have_value("gpt-4o-mini")
        assert page.locator("#model-list option").count() >= 3
        assert DEFAULT_KEY not in page.content()
        page.click("#nav-connection")
        open_chat(page, live, "Wren")
        new_chat(page)
        send(page, "Hello over HTTP")
        wait_idle(page)
        assert last_text(page) == "Echo: Hello over HTTP"
    live.app.state.engine.store.set_default_connection("scripted")
    assert [p for p in live.problems if "Failed to load resource" not in p] == []


def test_accounts_show_a_login_screen(page: Any, tmp_path: Any) -> None:
    from pytavern.security.passwords import hash_password
    from pytavern.server import create_app
    from pytavern.settings import Settings
    from tests.fakes.server import serve

    app = create_app(Settings(data_dir=tmp_path / "accounts", accounts=True))
    app.state.engine.store.create_user("ada", hash_password("correct horse"), is_admin=True)
    with serve(app) as url:
        page.goto(url + "/")
        page.wait_for_selector("[data-testid=login]")
        page.fill("[data-testid=login-name]", "ada")
        page.fill("[data-testid=login-password]", "wrong password")
        page.click("[data-testid=login]")
        expect(page.locator(".login .diagnosis.bad")).to_contain_text("wrong user name")
        shoot(page, "login")
        page.fill("[data-testid=login-password]", "correct horse")
        page.click("[data-testid=login]")
        page.wait_for_selector("[data-testid=message]")
        assert "Wren" in page.locator("[data-testid=message-text]").first.inner_text()
        page.click("[data-testid=logout]")
        page.wait_for_selector("[data-testid=login]")


def test_a_backend_listing_tens_of_thousands_of_models_offers_a_few_at_a_time(
    page: Any, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Featherless lists ~22,000 models: a datalist of them all froze SillyTavern's page."""
    from tests.fakes import openai_fake
    from tests.fakes.server import FaultPlan, serve

    many = ["gpt-4o-mini", *(f"vendor/model-{n:05d}" for n in range(25_000))]
    monkeypatch.setattr(openai_fake, "MODELS", many)
    with serve(openai_fake.create_app(FaultPlan())) as upstream:
        key = openai_fake.DEFAULT_KEY
        fill_custom_connection(page, live, "many-models", f"{upstream}/v1", key)
        page.click("[data-testid=connect]")
        expect(page.locator(".diagnosis.ok")).to_be_visible()
        expect(page.get_by_text("models available: type to find one")).to_be_visible()
        assert 0 < page.locator("#model-list option").count() <= 200
        page.fill("[data-testid=conn-model]", "model-2499")
        expect(page.locator("#model-list option")).to_have_count(10)  # -24990 to -24999
        page.fill("[data-testid=conn-model]", "vendor 24999")
        expect(page.locator("#model-list option")).to_have_count(1)
    assert live.problems == []


def test_the_web_ui_installs_as_an_app(page: Any, live: Live) -> None:
    """A web app manifest Chromium accepts: nothing but this test's incognito context keeps
    "Install" / "Add to Home screen" from offering pytavern as an app."""
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.json") and manifest["errors"] == []
    assert json.loads(manifest["data"])["display"] == "standalone"
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in errors] in ([], ["in-incognito"])
    assert live.problems == []
