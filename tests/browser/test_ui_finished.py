"""Issue 17's numbered defects, each as a user meets it in the browser (scripted replies)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from pytavern.formats.cards import card_from_dict, write_card_png
from pytavern.formats.png import solid_png
from tests.browser.conftest import PHONE, Live, shoot
from tests.scripted import Script

pytestmark = pytest.mark.browser


def open_chat(page: Any, live: Live, name: str) -> None:
    page.goto(live.url + "#/characters")
    page.locator(f"[data-testid=character-card][data-name='{name}']").click()
    page.wait_for_selector("[data-testid=message]")


def new_chat(page: Any) -> None:
    before = page.locator("[data-testid=chat-item]").count()
    page.click("[data-testid=new-chat]")
    expect(page.locator("[data-testid=chat-item]")).to_have_count(before + 1)


def wait_idle(page: Any) -> None:
    page.wait_for_selector("[data-testid=send]")
    page.wait_for_selector(".msg.streaming", state="detached")


def import_json_card(page: Any, live: Live, card: dict[str, Any], filename: str) -> None:
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.set_input_files(
        "[data-testid=file-input]",
        files=[
            {"name": filename, "mimeType": "application/json", "buffer": json.dumps(card).encode()}
        ],
    )


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two bounding boxes share any area."""
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_1_the_composer_shows_the_default_connection_as_soon_as_it_changes(
    page: Any, live: Live
) -> None:
    open_chat(page, live, "Wren")
    label = page.locator("[data-testid=composer-connection]")
    expect(label).to_contain_text("scripted")
    page.click("#nav-connection")
    page.select_option("[data-testid=conn-profile]", "")
    page.select_option("[data-testid=conn-api]", "chat")
    page.select_option("[data-testid=conn-source]", "scripted")
    page.fill("[data-testid=conn-name]", "second-backend")
    page.click("[data-testid=connect]")
    page.wait_for_selector(".diagnosis.ok")
    expect(label).to_contain_text("second-backend")
    expect(label.locator(".status-dot")).to_have_class("status-dot ok")
    assert "ok" in (page.get_attribute("#conn-dot", "class") or "")
    live.app.state.engine.store.set_default_connection("scripted")
    assert live.problems == []


def test_2_unsaved_world_info_and_character_edits_are_asked_about(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    page.click("#nav-worldinfo")
    page.click("[data-testid=wi-new]")
    page.click("[data-testid=wi-add]")
    page.fill("[data-testid=wi-keys]", "harbour")
    page.fill("[data-testid=wi-content]", "The harbour freezes in winter.")
    page.click("#nav-settings")  # another panel: the edits are not dropped
    expect(page.locator("[role=dialog]")).to_contain_text("Save changes to")
    shoot(page, "worldinfo-unsaved-dialog")
    page.click("[data-testid=choice-save]")
    page.wait_for_selector("[data-testid=samplers]")
    saved = {b.name: b for b in live.app.state.engine.store.list_lorebooks()}
    entries = [e for b in saved.values() for e in b.data["entries"].values()]
    assert any(e["key"] == ["harbour"] for e in entries)
    page.click("#nav-settings")

    page.goto(live.url + "#/characters")
    wren = page.locator("[data-testid=character-card][data-name='Wren']")
    wren.locator("[aria-label='Edit Wren']").click()
    page.fill("textarea[name=description]", "Changed but not saved.")
    page.keyboard.press("Escape")
    expect(page.locator("[role=dialog]")).to_have_count(2)  # the editor, and the question
    expect(page.locator("[role=dialog]").last).to_contain_text("Save your changes?")
    page.click("[data-testid=choice-discard]")
    expect(page.locator("[role=dialog]")).to_have_count(0)
    [wren_record] = [c for c in live.app.state.engine.store.list_characters() if c.name == "Wren"]
    assert wren_record.card["data"]["description"] != "Changed but not saved."
    wren.locator("[aria-label='Edit Wren']").click()
    page.keyboard.press("Escape")  # nothing changed: it just closes
    expect(page.locator("[role=dialog]")).to_have_count(0)
    assert live.problems == []


GREETER = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Greeter",
        "description": "Says hello three ways.",
        "first_mes": "Hello the first way.",
        "alternate_greetings": ["Hello the second way.", "Hello the third way."],
    },
}


def test_3_alternate_greetings_swipe_without_the_llm_and_survive_export(
    page: Any, live: Live
) -> None:
    import_json_card(page, live, GREETER, "greeter.json")
    page.locator("[data-testid=character-card][data-name='Greeter']").click()
    page.wait_for_selector("[data-testid=message]")
    counter = page.locator("[data-testid=swipe-counter]")
    expect(counter).to_have_text("1/3")
    asked = len(live.book.requests)
    page.click("[data-testid=swipe-right]")
    expect(counter).to_have_text("2/3")
    expect(page.locator("[data-testid=message-text]").last).to_have_text("Hello the second way.")
    page.click("[data-testid=swipe-right]")
    expect(counter).to_have_text("3/3")
    expect(page.locator("[data-testid=swipe-right]")).to_be_disabled()
    page.click("[data-testid=swipe-left]")
    expect(counter).to_have_text("2/3")
    assert len(live.book.requests) == asked
    shoot(page, "greetings")

    page.goto(live.url + "#/characters")
    greeter = page.locator("[data-testid=character-card][data-name='Greeter']")
    greeter.locator("[aria-label='Edit Greeter']").click()
    expect(page.locator("[data-testid=alt-greeting]")).to_have_count(2)
    page.click("[data-testid=add-greeting]")
    page.locator("[data-testid=alt-greeting]").last.fill("Hello the fourth way.")
    shoot(page, "character-editor-greetings")
    page.click("[data-testid=save-character]")
    expect(page.locator("[role=dialog]")).to_have_count(0)

    [record] = [c for c in live.app.state.engine.store.list_characters() if c.name == "Greeter"]
    png = page.request.get(f"{live.url}api/characters/{record.id}/export?format=png").body()
    page.set_input_files(
        "[data-testid=file-input]",
        files=[{"name": "greeter-again.png", "mimeType": "image/png", "buffer": png}],
    )
    expect(page.locator("[data-testid=character-card][data-name='Greeter']")).to_have_count(2)
    page.locator("[data-testid=character-card][data-name='Greeter']").last.click()
    expect(page.locator("[data-testid=swipe-counter]")).to_have_text("1/4")
    assert len(live.book.requests) == asked
    assert live.problems == []


def test_4_toasts_cover_neither_send_nor_the_world_info_save_button(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    page.click("#nav-worldinfo")
    page.click("[data-testid=wi-new]")
    for size in ({"width": 1280, "height": 800}, PHONE):
        page.set_viewport_size(size)
        page.click("[data-testid=wi-save]")
        toast = page.locator("[data-testid=toast]").last
        expect(toast).to_be_visible()
        page.wait_for_timeout(300)  # the panel redraws after saving
        box = toast.bounding_box()
        assert not overlaps(box, page.locator("[data-testid=wi-save]").bounding_box())
        if size != PHONE:  # on a phone the panel covers the chat
            assert not overlaps(box, page.locator("[data-testid=send]").bounding_box())
    for _ in range(5):  # they do not pile up
        page.click("[data-testid=wi-save]")
    page.wait_for_timeout(300)
    assert page.locator("[data-testid=toast]").count() == 1
    close = page.locator("#panel .panel-head [aria-label=Close]").bounding_box()
    assert not overlaps(page.locator("[data-testid=toast]").bounding_box(), close)
    shoot(page, "toast")
    page.locator("[data-testid=toast] [aria-label=Dismiss]").first.click()
    assert live.problems == []


def test_5_unset_samplers_rest_at_the_backend_default_temperature_first(
    page: Any, live: Live
) -> None:
    store = live.app.state.engine.store
    store.save_connection(
        name="many-samplers",
        api="scripted",
        options={"samplers": ["min_p", "temperature", "top_p"]},
    )
    store.set_default_connection("many-samplers")
    try:
        open_chat(page, live, "Wren")
        page.click("#nav-settings")
        page.wait_for_selector("[data-range=temperature]")
        order = page.locator("[data-range]").evaluate_all("els => els.map(e => e.dataset.range)")
        assert order == ["temperature", "top_p", "min_p"]
        expect(page.locator("[data-range=temperature]")).to_have_value("1")
        expect(page.locator("[data-sampler=temperature]")).to_have_value("")
        assert "unset" in (page.locator(".sampler").first.get_attribute("class") or "")
        page.locator("[data-sampler=temperature]").fill("0.7")
        page.locator("[data-sampler=temperature]").dispatch_event("change")
        expect(page.locator("[data-range=temperature]")).to_have_value("0.7")
        shoot(page, "samplers")
    finally:
        store.set_default_connection("scripted")
    assert live.problems == []


def test_6_keyboard_escape_focus_and_arrow_swipes(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    expect(page.locator("[data-testid=input]")).to_be_focused()
    page.click("#nav-settings")
    page.keyboard.press("Escape")
    expect(page.locator("#panel")).to_be_hidden()
    expect(page.locator("#nav-settings")).to_be_focused()
    page.click("[data-testid=more]")
    expect(page.locator(".menu-list")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".menu-list")).to_be_hidden()
    page.locator("[data-testid=chat-item] [aria-label='Rename chat']").first.click()
    expect(page.locator("[data-testid=ask-text]")).to_be_focused()
    for _ in range(6):  # Tab stays inside the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('[role=dialog]') !== null")
    page.keyboard.press("Escape")
    expect(page.locator("[role=dialog]")).to_have_count(0)
    links = page.locator("[data-testid=chat-link]")
    assert links.count() >= 1 and links.first.get_attribute("href", timeout=1000)
    page.goto(live.url + "#/characters")
    expect(page.locator("[data-testid=character-link]").first).to_have_attribute(
        "href", re.compile(r"^#/character/\d+$")
    )

    open_chat(page, live, "Wren")
    new_chat(page)
    live.book.scripts.append(Script(["First answer."]))
    page.fill("[data-testid=input]", "Hi")
    page.keyboard.press("Enter")
    wait_idle(page)
    live.book.scripts.append(Script(["Second answer."]))
    page.locator("[data-testid=input]").blur()
    page.keyboard.press("ArrowRight")
    expect(page.locator("[data-testid=swipe-counter]")).to_have_text("2/2")
    wait_idle(page)
    page.keyboard.press("ArrowLeft")
    expect(page.locator("[data-testid=swipe-counter]")).to_have_text("1/2")
    expect(page.locator("[data-testid=message-text]").last).to_have_text("First answer.")
    assert live.problems == []


def test_7_a_new_persona_is_used_at_once_and_named_the_same_throughout(
    page: Any, live: Live
) -> None:
    open_chat(page, live, "Wren")
    new_chat(page)
    page.click("#nav-settings")
    page.click("[data-tab=persona]")
    page.get_by_role("button", name="New persona").click()
    page.fill("[aria-label='Persona name']", "Marlowe")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("[aria-label=Persona]")).to_contain_text("Marlowe")
    page.click("#nav-settings")
    live.book.scripts.append(Script(["Welcome, ", "Marlowe."], delay=0.2))
    page.fill("[data-testid=input]", "I am here")
    page.click("[data-testid=send]")
    page.wait_for_selector(".msg.streaming")
    expect(page.locator(".msg.user .name").last).to_have_text("Marlowe")
    wait_idle(page)
    expect(page.locator(".msg.user .name").last).to_have_text("Marlowe")
    page.reload()
    page.wait_for_selector("[data-testid=message]")
    expect(page.locator(".msg.user .name").last).to_have_text("Marlowe")
    store = live.app.state.engine.store
    chat_id = int(page.url.rsplit("/", 1)[1])
    assert [m.name for m in store.history(chat_id) if m.role == "user"] == ["Marlowe"]
    for persona in store.list_personas():
        if persona.name == "Marlowe":
            store.delete_persona(persona.id)
    assert live.problems == []


def test_8_wording_in_words_a_person_uses(page: Any, live: Live) -> None:
    png = write_card_png(card_from_dict({"name": "Cut"}), solid_png(64, 64, (1, 2, 3)))
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.set_input_files(
        "[data-testid=file-input]",
        files=[{"name": "cut.png", "mimeType": "image/png", "buffer": png[: len(png) // 2]}],
    )
    toast = page.locator("[data-testid=toast]").last
    expect(toast).to_contain_text("cut.png")
    text = toast.inner_text()
    assert text.count("cut.png") == 1 and "b'" not in text
    hint = page.evaluate(
        "import('/js/api.js').then(m => m.api.get('/api/lorebooks/nope').catch(e => e.hint))"
    )
    assert hint and "pytavern" not in hint and "`" not in hint and "World Info" in hint
    said = page.evaluate(
        "import('/js/chat.js').then(m => ["
        " m.statusText({message: 'waiting in the Horde queue: position 3, about 40 s',"
        "  queue_position: 3, wait_seconds: 40}),"
        " m.statusText({message: 'a Horde worker is generating', queue_position: 0,"
        "  wait_seconds: 0})])"
    )
    assert said == [
        "waiting in the Horde queue: position 3, about 40 s",
        "a Horde worker is generating",
    ]

    page.click("#nav-connection")
    page.select_option("[data-testid=conn-profile]", "")
    page.select_option("[data-testid=conn-api]", "text")
    helps = set()
    for source, port in (("ooba", "5000"), ("llamacpp", "8080"), ("ollama", "11434")):
        page.select_option("[data-testid=conn-source]", source)
        help_text = page.inner_text("[data-testid=url-help]")
        assert port in help_text
        helps.add(help_text)
    assert len(helps) == 3
    page.click("#nav-connection")

    open_chat(page, live, "Wren")
    new_chat(page)
    live.book.scripts.append(Script(["Noted."]))
    page.fill("[data-testid=input]", "Remember the blue door")
    page.click("[data-testid=send]")
    wait_idle(page)
    page.click("[data-testid=more]")
    page.click("[data-testid=menu-prompt]")
    view = page.locator("[data-testid=prompt-view]")
    expect(view).to_contain_text("Chat history")
    for internal in ("chatHistory", "charDescription", "worldInfoBefore", "jailbreak"):
        assert internal not in view.inner_text()
    page.locator("[data-testid=prompt-text] summary").click()
    expect(page.locator("[data-testid=prompt-text]")).to_contain_text("Remember the blue door")
    shoot(page, "prompt-view-text")
    page.keyboard.press("Escape")
    assert [p for p in live.problems if "Failed to load resource" not in p] == []


def test_9_chat_names_hold_the_time_shows_and_saved_connections_stay(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    for _ in range(2):
        new_chat(page)
    names = page.locator("[data-testid=chat-link]").all_inner_texts()
    assert "Wren" not in names
    page.locator("[data-testid=chat-item]").last.hover()
    page.locator("[data-testid=chat-item] [aria-label='Rename chat']").last.click()
    page.fill("[data-testid=ask-text]", "The old one")
    page.click("[data-testid=ask-ok]")
    expect(page.locator("[data-testid=chat-link]", has_text="The old one")).to_have_count(1)
    after = page.locator("[data-testid=chat-link]").all_inner_texts()
    assert sorted(n for n in after if n != "The old one") == sorted(names[:-1])
    active = page.locator(".chat-item.active [data-testid=chat-link]").inner_text()
    expect(page.locator("[data-testid=chat-title]")).to_have_text(f"· {active}")
    meta = page.locator(".chat-item.active .meta")
    assert meta.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    inside = (  # the text ends before the chat's buttons start
        "el => el.getBoundingClientRect().right"
        " <= el.closest('.chat-item').querySelector('.icon-btn').getBoundingClientRect().left"
        " && el.closest('.title').scrollWidth <= el.closest('.title').clientWidth + 1"
    )
    assert meta.evaluate(inside)

    page.click("#nav-connection")
    page.select_option("[data-testid=conn-profile]", "scripted")
    page.select_option("[data-testid=conn-api]", "text")
    expect(page.locator("[data-testid=new-connection-note]")).to_be_visible()
    expect(page.locator("[data-testid=conn-name]")).to_be_enabled()
    page.fill("[data-testid=conn-url]", "http://127.0.0.1:9/")
    page.click("[data-testid=connect]")
    page.wait_for_selector(".diagnosis.bad")
    store = live.app.state.engine.store
    assert store.get_connection("scripted").api == "scripted"
    store.set_default_connection("scripted")
    assert [p for p in live.problems if "Failed to load resource" not in p] == []


def test_hide_a_message_chat_settings_and_token_counts(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    new_chat(page)
    live.book.scripts.append(Script(["Understood."]))
    page.fill("[data-testid=input]", "The password is heron.")
    page.click("[data-testid=send]")
    wait_idle(page)
    expect(page.locator("[data-testid=message-tokens]").last).to_contain_text("token")
    secret = page.locator(".msg.user").last
    secret.hover()
    secret.locator("[data-testid=hide]").click()
    expect(page.locator(".msg.user").last.locator("[data-testid=hidden-badge]")).to_be_visible()

    entry = {"uid": 0, "key": ["password"], "content": "Passwords change at dawn.", "position": 0}
    live.app.state.engine.store.save_lorebook("Chat-only book", {"entries": {"0": entry}})
    page.click("[data-testid=more]")
    page.click("[data-testid=menu-chat-settings]")
    page.wait_for_selector("[data-testid=chat-settings]")
    page.select_option("[data-testid=chat-lorebook]", "Chat-only book")
    page.fill("[data-testid=chat-note]", "[The tavern is closing soon.]")
    shoot(page, "chat-settings")
    page.click("[data-testid=save-chat-settings]")
    expect(page.locator("[data-testid=chat-settings]")).to_have_count(0)

    live.book.scripts.append(Script(["I do not know it."]))
    page.fill("[data-testid=input]", "What is the password?")
    page.click("[data-testid=send]")
    wait_idle(page)
    sent = "\n".join(m.content for m in live.book.requests[-1].messages)
    assert "heron" not in sent and "[The tavern is closing soon.]" in sent
    assert "Passwords change at dawn." in sent
    assert page.locator("[data-testid=message-text]", has_text="heron").count() == 1
    page.click("[data-testid=more]")
    page.click("[data-testid=menu-prompt]")
    expect(page.locator("[data-testid=prompt-hidden]")).to_contain_text("1 message is hidden")
    page.locator("[data-testid=prompt-text] summary").click()
    expect(page.locator("[data-testid=prompt-text]")).not_to_contain_text("heron")
    shoot(page, "hidden-message-prompt-view")
    page.keyboard.press("Escape")

    page.goto(live.url + "#/characters")
    wren = page.locator("[data-testid=character-card][data-name='Wren']")
    wren.locator("[aria-label='Edit Wren']").click()
    notes = page.locator("[data-testid=field-tokens]")
    expect(notes.first).to_contain_text("token")
    assert live.problems == []


def test_the_cards_own_lorebook_shows_and_is_edited_in_the_character_editor(
    page: Any, live: Live
) -> None:
    entry = {"keys": ["well"], "content": "The well is dry.", "enabled": True, "id": 0}
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {"name": "Booked", "first_mes": "Hi.", "character_book": {"entries": [entry]}},
    }
    import_json_card(page, live, card, "booked.json")
    booked = page.locator("[data-testid=character-card][data-name='Booked']")
    booked.locator("[aria-label='Edit Booked']").click()
    page.click("[data-testid=embedded-book] summary")
    expect(page.locator("[data-testid=embedded-content]")).to_have_value("The well is dry.")
    page.fill("[data-testid=embedded-content]", "The well is full again.")
    shoot(page, "character-editor-embedded-book")
    page.click("[data-testid=save-character]")
    expect(page.locator("[role=dialog]")).to_have_count(0)
    [record] = [c for c in live.app.state.engine.store.list_characters() if c.name == "Booked"]
    [stored] = record.card["data"]["character_book"]["entries"]
    assert stored["content"] == "The well is full again." and stored["keys"] == ["well"]
    assert live.problems == []


def test_world_info_binds_a_lorebook_to_the_chat_or_the_character(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    entry = {"uid": 0, "key": ["bell"], "content": "The bell rings at noon.", "position": 0}
    store.save_lorebook("Bell book", {"entries": {"0": entry}})
    open_chat(page, live, "Wren")
    new_chat(page)
    page.click("#nav-worldinfo")
    page.select_option("[data-testid=wi-select]", "Bell book")
    expect(page.locator("[data-testid=wi-bind-chat]")).to_be_enabled()
    page.check("[data-testid=wi-bind-chat]")
    shoot(page, "worldinfo-bindings")
    page.click("#nav-worldinfo")
    live.book.scripts.append(Script(["Noon."]))
    page.fill("[data-testid=input]", "When does the bell ring?")
    page.click("[data-testid=send]")
    wait_idle(page)
    assert "The bell rings at noon." in "\n".join(
        m.content for m in live.book.requests[-1].messages
    )

    page.click("#nav-worldinfo")
    page.check("[data-testid=wi-bind-character]")
    expect(page.locator("[data-testid=wi-bind-character]")).to_be_checked()
    page.uncheck("[data-testid=wi-bind-chat]")
    page.click("#nav-worldinfo")
    [wren] = [c for c in store.list_characters() if c.name == "Wren"]
    assert store.get_character(wren.id).card["data"]["extensions"]["world"] == "Bell book"
    new_chat(page)
    live.book.scripts.append(Script(["Noon."]))
    page.fill("[data-testid=input]", "The bell?")
    page.click("[data-testid=send]")
    wait_idle(page)
    assert "The bell rings at noon." in "\n".join(
        m.content for m in live.book.requests[-1].messages
    )
    card = store.get_character(wren.id).card
    del card["data"]["extensions"]["world"]
    store.update_character(wren.id, card)
    assert live.problems == []
