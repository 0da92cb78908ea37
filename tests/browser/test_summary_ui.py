"""A chat's summary in the web UI: "This chat's settings", Summarize now, edits by hand, a cut
summary keeping the one there was, and the settings' "every N messages" making one in
the background (scripted replies)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Live, open_prompt_settings, shoot, wait_for
from tests.scripted import Script, cut_error

pytestmark = pytest.mark.browser


def open_new_chat(page: Any, live: Live, name: str) -> int:
    """Open ``name``'s chats, start a new one and return its id."""
    page.goto(live.url + "#/characters")
    page.locator(f"[data-testid=character-card][data-name='{name}']").click()
    page.wait_for_selector("[data-testid=message]")
    before = page.locator("[data-testid=chat-item]").count()
    page.click("[data-testid=new-chat]")
    expect(page.locator("[data-testid=chat-item]")).to_have_count(before + 1)
    expect(page).to_have_url(re.compile(r"#/chat/\d+$"))
    page.wait_for_selector("[data-testid=message]")
    return int(page.url.rsplit("/", 1)[1])


def send(page: Any, text: str) -> None:
    page.fill("[data-testid=input]", text)
    page.click("[data-testid=send]")
    page.wait_for_selector(".msg.streaming", state="detached")
    page.wait_for_selector("[data-testid=send]")


def open_chat_settings(page: Any) -> None:
    page.click("[data-testid=more]")
    page.click("[data-testid=menu-chat-settings]")
    page.wait_for_selector("[data-testid=chat-settings]")


def test_summarize_now_streams_the_summary_into_the_dialog_and_keeps_it(
    page: Any, live: Live
) -> None:
    chats = live.app.state.services.chats
    chat_id = open_new_chat(page, live, "Wren")
    live.book.scripts.append(Script(["We walk to the harbour."]))
    send(page, "Shall we go to the harbour?")
    count = chats.get(chat_id).message_count
    shown = page.locator("[data-testid=message]").count()

    live.book.scripts.append(Script(["Wren and the user ", "walked to the harbour."], delay=1.0))
    open_chat_settings(page)
    box = page.locator("[data-testid=chat-summary]")
    expect(box).to_have_value("")
    page.click("[data-testid=summarize-now]")
    run = page.locator("[data-testid=summarize-now]")
    expect(run).to_have_text("Stop summarizing")
    expect(box).to_have_value("Wren and the user ")  # the text shows as it arrives
    assert box.get_attribute("readonly") is not None
    expect(box).to_have_value("Wren and the user walked to the harbour.")
    expect(run).to_have_text("Summarize now")
    expect(page.locator("[data-testid=toast]", has_text="Summary saved")).to_be_visible()
    expect(page.locator("[data-testid=summary-age]")).to_have_text(
        f"It covers all {count} messages of the chat."
    )
    assert "Limit the summary to 200 words" in live.book.requests[-1].messages[-1].content
    shoot(page, "summary-dialog")

    page.keyboard.press("Escape")  # stored already: nothing to ask about
    expect(page.locator("[role=dialog]")).to_have_count(0)
    assert chats.options(chat_id)["summary"] == "Wren and the user walked to the harbour."
    assert chats.get(chat_id).message_count == count  # a summary is no message
    expect(page.locator("[data-testid=message]")).to_have_count(shown)

    live.book.scripts.append(Script(["The gulls cry."]))
    send(page, "Listen.")
    open_chat_settings(page)
    expect(box).to_have_value("Wren and the user walked to the harbour.")
    expect(page.locator("[data-testid=summary-age]")).to_have_text(
        f"It covers the first {count} of the chat's {count + 2} messages."
    )
    box.fill("Edited by hand.")
    page.click("[data-testid=save-chat-settings]")
    expect(page.locator("[role=dialog]")).to_have_count(0)
    assert chats.options(chat_id)["summary"] == "Edited by hand."
    assert live.problems == []


def test_a_summary_cut_short_keeps_the_one_there_was(page: Any, live: Live) -> None:
    chats = live.app.state.services.chats
    chat_id = open_new_chat(page, live, "Wren")
    live.book.scripts.append(Script(["Whole summary."]))
    open_chat_settings(page)
    page.click("[data-testid=summarize-now]")
    box = page.locator("[data-testid=chat-summary]")
    expect(box).to_have_value("Whole summary.")

    live.book.scripts.append(Script(["Half a sum"], error=cut_error()))
    page.click("[data-testid=summarize-now]")
    expect(page.locator("[data-testid=toast].bad")).to_contain_text("the stream was cut")
    expect(box).to_have_value("Whole summary.")
    expect(page.locator("[data-testid=summarize-now]")).to_be_enabled()
    assert chats.options(chat_id)["summary"] == "Whole summary."
    # the button stops a summary being made: the one there was stays
    live.book.scripts.append(Script(["Slow ", "new ", "sum."], delay=1.5))
    page.click("[data-testid=summarize-now]")
    expect(box).to_have_value("Slow ")
    page.click("[data-testid=summarize-now]")  # now "Stop summarizing"
    expect(page.locator("[data-testid=summarize-now]")).to_have_text("Summarize now")
    expect(box).to_have_value("Whole summary.")
    assert chats.options(chat_id)["summary"] == "Whole summary."
    page.keyboard.press("Escape")
    expect(page.locator("[role=dialog]")).to_have_count(0)
    assert live.problems == []


def test_settings_every_n_messages_summarize_in_the_background(page: Any, live: Live) -> None:
    chats = live.app.state.services.chats
    preferences = live.app.state.services.preferences
    chat_id = open_new_chat(page, live, "Wren")
    open_prompt_settings(page, "summary-settings")
    shoot(page, "summary-settings")
    page.fill("[data-testid=summary-every]", "3")
    page.locator("[data-testid=summary-every]").press("Tab")
    wait_for(lambda: preferences.get().summary.every == 3)
    page.click("#nav-settings")

    try:
        live.book.scripts += [
            Script(["A reply."]),
            Script([f"part{i} " for i in range(12)] + ["done."], delay=0.15),
        ]
        asked_for: list[str] = []
        page.on("request", lambda request: asked_for.append(request.url))
        page.fill("[data-testid=input]", "Tell me about the lighthouse.")
        page.click("[data-testid=send]")  # greeting, message, reply: 3 since no summary
        updating = page.locator("[data-testid=toast]", has_text="Updating the chat's summary")
        expect(updating).to_be_visible()
        # the reply's finished event says the summary is due: nothing else is asked
        assert not [u for u in asked_for if u.endswith(("/api/settings", "/options", "limit=1"))]
        expect(page.locator("[data-testid=send]")).to_be_visible()  # no busy send button
        page.reload()  # a running summary is not shown as a reply when the view comes back
        page.wait_for_selector("[data-testid=message]")
        expect(page.locator("[data-testid=message]")).to_have_count(3)
        expect(page.locator(".msg.streaming")).to_have_count(0)
        wait_for(lambda: chats.options(chat_id)["summary"].endswith("done."))
        assert chats.options(chat_id)["summary_at"] == 3
        assert chats.get(chat_id).message_count == 3
        expect(page.locator("[data-testid=message]")).to_have_count(3)
        asked = len(live.book.requests)

        live.book.scripts.append(Script(["Another reply."]))
        page.fill("[data-testid=input]", "And then?")
        page.click("[data-testid=send]")
        expect(page.locator("[data-testid=message-text]").last).to_have_text("Another reply.")
        page.wait_for_selector("[data-testid=send]")
        page.wait_for_timeout(500)
        assert len(live.book.requests) == asked + 1  # 2 new messages since the summary: not yet
    finally:
        preferences.change({"summary": {"every": 0}})
    assert live.problems == []
