"""Group chats in the browser: create a group, chat with it, mute, pick who answers."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Live, shoot
from tests.scripted import Script

pytestmark = pytest.mark.browser

BOB = {"name": "Bob", "description": "Bob cooks.", "first_mes": "Soup?"}


def test_create_a_group_chat_and_talk_to_it(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    bob = store.add_character({"spec": "chara_card_v2", "spec_version": "2.0", "data": BOB})
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.click("#nav-groups")
    page.fill("[data-testid=group-name]", "Kitchen")
    page.check("[data-testid=group-pick-1]")
    page.check(f"[data-testid=group-pick-{bob.id}]")
    page.select_option("[data-testid=group-strategy]", "list")
    page.click("[data-testid=group-create]")
    expect(page.locator("[data-testid=group-title]")).to_have_text("Kitchen")
    # members in the order the panel lists them (by name): Bob, then Wren; greetings first
    expect(page.locator("[data-testid=speaker]")).to_have_text(["Bob", "Wren"])
    # the sidebar is the group's: its members, and the groups to switch between
    expect(page.locator("[data-testid=group-side-member] a")).to_have_text(["Bob", "Wren"])
    expect(page.locator("[data-testid=group-side-item].active")).to_contain_text("Kitchen")
    live.book.scripts += [Script(["Bob answers."]), Script(["Wren answers."])]
    page.fill("[data-testid=input]", "Dinner?")
    page.click("[data-testid=send]")
    expect(page.locator("[data-testid=speaker]")).to_have_text(
        ["Bob", "Wren", "User", "Bob", "Wren"]
    )
    expect(page.locator("[data-testid=message-text]").last).to_have_text("Wren answers.")
    # mute Wren in the panel: only Bob answers now
    box = page.locator("[data-testid=group-box]", has_text="Kitchen")
    box.locator("[data-testid=group-member]", has_text="Wren").locator(
        "[data-testid=group-mute]"
    ).click()
    expect(box.locator("[data-testid=group-member]", has_text="Wren")).to_contain_text("muted")
    expect(page.locator("[data-testid=group-side-member]", has_text="Wren")).to_contain_text(
        "muted"
    )
    live.book.scripts.append(Script(["Just Bob."]))
    page.fill("[data-testid=input]", "Anyone?")
    page.click("[data-testid=send]")
    expect(page.locator("[data-testid=message-text]").last).to_have_text("Just Bob.")
    # a muted member still answers when asked
    live.book.scripts.append(Script(["Wren, asked."]))
    page.locator("[data-testid=group-trigger]", has_text="Wren").click()
    expect(page.locator("[data-testid=message-text]").last).to_have_text("Wren, asked.")
    expect(page.locator("[data-testid=speaker]").last).to_have_text("Wren")
    shoot(page, "group-chat")
    [group] = live.app.state.services.groups.all()
    assert [(m.name, m.muted) for m in group.members] == [("Bob", False), ("Wren", True)]
    # auto-mode: the group goes on by itself (list order: the unmuted Bob), until unchecked
    live.app.state.services.groups.update(group.id, auto_mode_delay=1)
    page.goto(live.url + f"#/character/{bob.id}")  # a character's chats in the sidebar
    expect(page.locator("[data-testid=chat-item]").first).to_be_visible()
    page.goto(live.url + f"#/group/{group.id}")
    expect(page.locator("[data-testid=group-title]")).to_have_text("Kitchen")
    expect(page.locator("[data-testid=chat-item]")).to_have_count(0)
    expect(page.locator("[data-testid=group-side-member] a")).to_have_text(["Bob", "Wren"])
    live.book.scripts.append(Script(["Bob, unprompted."]))
    page.check("[data-testid=group-auto]")
    expect(page.locator("[data-testid=message-text]").last).to_have_text("Bob, unprompted.")
    page.uncheck("[data-testid=group-auto]")
    page.wait_for_timeout(1500)  # a round already under way may still end
    count = page.locator("[data-testid=message]").count()
    page.wait_for_timeout(2000)
    assert page.locator("[data-testid=message]").count() == count
    assert live.problems == []


def test_a_group_turn_shows_each_reply_as_it_is_written(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    store.add_character({"spec": "chara_card_v2", "spec_version": "2.0", "data": BOB})
    group = live.app.state.services.groups.create("Tea", ["Wren", "Bob"], strategy="list")
    live.book.scripts += [
        Script(["Wren ", "pours ", "slowly."], delay=0.4),
        Script(["Bob sips."]),
        Script(["Wren ", "again, ", "slowly."], delay=1.0),
        Script(["Bob waits."]),
    ]
    page.goto(live.url + f"#/group/{group.id}")
    page.wait_for_selector("body[data-ready]")
    page.fill("[data-testid=input]", "Tea?")
    page.click("[data-testid=send]")
    writing = page.locator("[data-live]")
    expect(writing.locator("[data-testid=speaker]")).to_have_text("Wren")
    expect(page.locator("[data-testid=message]", has_text="Tea?")).to_have_count(1)
    expect(writing.locator("[data-testid=message-text]")).to_contain_text("Wren pours")
    expect(page.locator("[data-testid=message-text]").last).to_have_text("Bob sips.")
    expect(writing).to_have_count(0)
    # a reload during a turn: the view replays the turn, the reply being written shows as it
    # grows, once (its stored part gives way to the replayed one), then what it wrote
    page.fill("[data-testid=input]", "More?")
    page.click("[data-testid=send]")
    expect(page.locator("[data-live]")).to_have_count(1)
    page.reload()
    expect(page.locator("body[data-group-busy='1']")).to_have_count(1)
    writing = page.locator("[data-live]")
    expect(writing.locator("[data-testid=speaker]")).to_have_text("Wren")
    expect(writing.locator("[data-testid=message-text]")).to_contain_text("Wren again")
    expect(page.locator("[data-testid=message]", has_text="Wren again")).to_have_count(1)
    expect(page.locator("[data-testid=message]", has_text="More?")).to_have_count(1)
    expect(page.locator("[data-testid=message-text]").last).to_have_text("Bob waits.")
    expect(page.locator("body[data-group-busy='1']")).to_have_count(0)
    texts = page.locator("[data-testid=message-text]").all_inner_texts()
    assert texts[-3:] == ["More?", "Wren again, slowly.", "Bob waits."]
    # a swipe: the new reply takes the old one's place as it is written (never both)
    live.book.scripts.append(Script(["Bob ", "thinks ", "again."], delay=1.0))
    page.click("[data-testid=group-swipe]")
    expect(page.locator("[data-live] [data-testid=message-text]")).to_contain_text("thinks")
    assert page.locator("[data-testid=message]", has_text="Bob waits.").count() == 0
    assert page.locator("[data-live]").count() == 1  # still being written
    expect(page.locator("body[data-group-busy='1']")).to_have_count(0)
    after = page.locator("[data-testid=message-text]").all_inner_texts()
    assert after == [*texts[:-1], "Bob thinks again."]
    # the group's chat opened as a chat (a search hit, a bookmark) is the group's view
    page.goto(live.url + "#/characters")
    expect(page.locator("[data-testid=group-title]")).to_have_count(0)
    page.goto(live.url + f"#/chat/{group.chat_id}")
    expect(page.locator("[data-testid=group-title]")).to_have_text("Tea")
    expect(page).to_have_url(live.url + f"#/group/{group.id}")
    assert live.problems == []


def test_a_search_hit_and_a_continue_in_a_group_chat(page: Any, live: Live) -> None:
    store = live.app.state.engine.store
    store.add_character({"spec": "chara_card_v2", "spec_version": "2.0", "data": BOB})
    group = live.app.state.services.groups.create("Kiln", ["Wren", "Bob"], strategy="list")
    live.book.scripts += [Script(["Wren fires the kiln."]), Script(["Bob stokes it."])]
    page.goto(live.url + f"#/group/{group.id}")
    page.wait_for_selector("body[data-ready]")
    page.fill("[data-testid=input]", "Pots?")
    page.click("[data-testid=send]")
    expect(page.locator("[data-testid=message-text]").last).to_have_text("Bob stokes it.")
    expect(page.locator("body[data-group-busy='1']")).to_have_count(0)
    hit = next(m for m in store.history(group.chat_id) if m.text == "Wren fires the kiln.")
    # a search hit opens the group's view at the message (marked for a moment)
    page.goto(live.url + "#/characters")
    page.goto(live.url + f"#/chat/{group.chat_id}/m/{hit.id}")
    expect(page).to_have_url(live.url + f"#/group/{group.id}/m/{hit.id}")
    expect(page.locator(f"[data-testid=message][data-id='{hit.id}'].found")).to_have_count(1)
    expect(page.locator("[data-testid=group-side-member]")).to_have_count(2)
    # a continue started elsewhere (another tab, the API) shows as the reply growing in
    # place when the view follows it: never the old reply beside its continuation
    live.book.scripts.append(Script([" And ", "waits ", "for ", "dawn."], delay=1.0))
    page.evaluate(
        """(id) => fetch(`/api/groups/${id}/generate`, {method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({action: "redo", mode: "continue"})})""",
        group.id,
    )
    page.reload()
    writing = page.locator("[data-live] [data-testid=message-text]")
    expect(writing).to_contain_text("Bob stokes it. And")
    assert page.locator("[data-testid=message]", has_text="Bob stokes it.").count() == 1
    expect(page.locator("body[data-group-busy='1']")).to_have_count(0)
    texts = page.locator("[data-testid=message-text]").all_inner_texts()
    assert texts[-1] == "Bob stokes it. And waits for dawn."
    # the view's own Continue button: the reply grows in place as it is written
    live.book.scripts.append(Script([" Then ", "sleeps."], delay=0.8))
    page.click("[data-testid=group-continue]")
    expect(page.locator("[data-live] [data-testid=message-text]")).to_contain_text("dawn. Then")
    assert page.locator("[data-testid=message]", has_text="waits for dawn.").count() == 1
    expect(page.locator("body[data-group-busy='1']")).to_have_count(0)
    texts = page.locator("[data-testid=message-text]").all_inner_texts()
    assert texts[-1] == "Bob stokes it. And waits for dawn. Then sleeps."
    # the group's chat has its own settings and summary, made with every member's card
    live.book.scripts.append(Script(["Wren and Bob fired pots."]))
    page.click("[data-testid=group-chat-settings]")
    page.click("[data-testid=summarize-now]")
    expect(page.locator("[data-testid=chat-summary]")).to_have_value("Wren and Bob fired pots.")
    system = [m.content for m in live.book.requests[-1].messages if m.role == "system"]
    assert any("Bob cooks." in text for text in system)
    page.keyboard.press("Escape")
    assert page.locator("[data-testid=message]").count() == len(texts)
    assert live.problems == []


def test_world_info_editor_sets_an_outlet(page: Any, live: Live) -> None:
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.click("#nav-worldinfo")
    page.wait_for_selector("[data-testid=worldinfo]")
    page.click("[data-testid=wi-new]")
    page.click("[data-testid=wi-add]")
    page.fill("[data-testid=wi-keys]", "gate")
    page.fill("[data-testid=wi-content]", "The gate is sealed.")
    expect(page.locator("[data-testid=wi-outlet]")).to_be_hidden()
    page.select_option("[aria-label=Position]", "7")
    page.fill("[data-testid=wi-outlet]", "gates")
    page.check("[data-testid=wi-ignore-budget]")
    page.click("[data-testid=wi-save]")
    expect(page.get_by_text("Saved Lorebook 1")).to_be_visible()
    entry = live.app.state.engine.store.list_lorebooks()[0].data["entries"]["0"]
    assert (entry["position"], entry["outletName"], entry["ignoreBudget"]) == (7, "gates", True)
    assert live.problems == []
