"""Replies that survive the browser: a reload mid-stream and a second tab, in headless
Chromium against a real pytavern server (scripted replies)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Live
from tests.browser.test_ui import last_text, new_chat, open_chat, send, wait_idle
from tests.scripted import Script

pytestmark = pytest.mark.browser

WORDS = [f"word{i} " for i in range(50)]
FULL = "".join(WORDS).strip()


def test_reload_mid_stream_continues_the_reply_in_place(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    new_chat(page)
    before = page.locator(".msg").count()
    live.book.scripts.append(Script(WORDS, delay=0.06))
    send(page, "Tell me a long story")
    expect(page.locator("[data-testid=message-text]").last).to_contain_text("word3")
    page.reload()
    page.wait_for_selector(".msg.streaming")
    expect(page.locator("[data-testid=stop]")).to_be_visible()
    expect(page.locator("[data-testid=message-text]").last).to_contain_text("word20")
    words = last_text(page).split()
    assert words == [f"word{i}" for i in range(len(words))]
    wait_idle(page)
    assert page.locator(".msg").count() == before + 2
    assert last_text(page) == FULL
    assert page.locator(".msg").last.locator("[data-testid=incomplete]").count() == 0
    assert page.locator(".msg.user").last.inner_text().endswith("Tell me a long story")
    assert live.problems == []


def test_a_second_tab_sees_the_same_live_reply(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    new_chat(page)
    other = page.context.new_page()
    other.set_default_timeout(8000)
    other.goto(page.url)
    other.wait_for_selector("[data-testid=message]")
    live.book.scripts.append(Script(WORDS, delay=0.04))
    send(page, "Both of you listen")
    other.wait_for_selector(".msg.streaming")
    expect(other.locator("[data-testid=message-text]").last).to_contain_text("word5")
    wait_idle(page)
    wait_idle(other)
    assert last_text(page) == last_text(other) == FULL
    assert other.locator(".msg").count() == page.locator(".msg").count()
    other.close()
    assert live.problems == []


def test_stop_works_after_a_reload(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    new_chat(page)
    live.book.scripts.append(Script([f"w{i} " for i in range(300)], delay=0.03))
    send(page, "Go on and on")
    expect(page.locator("[data-testid=message-text]").last).to_contain_text("w3")
    page.reload()
    page.wait_for_selector(".msg.streaming")
    page.click("[data-testid=stop]")
    wait_idle(page)
    assert page.locator(".msg").last.locator("[data-testid=incomplete]").count() == 1
    stopped = last_text(page)
    assert stopped.startswith("w0 w1 w2 w3") and "w299" not in stopped
    assert live.problems == []


def test_a_tab_coming_back_follows_from_the_last_event_without_duplicates(
    page: Any, live: Live
) -> None:
    followed: list[str] = []
    page.on(
        "request",
        lambda request: followed.append(request.url) if "/events" in request.url else None,
    )
    open_chat(page, live, "Wren")
    new_chat(page)
    before = page.locator(".msg").count()
    live.book.scripts.append(Script(WORDS, delay=0.05))
    send(page, "Keep going")
    expect(page.locator("[data-testid=message-text]").last).to_contain_text("word4")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator("[data-testid=message-text]").last).to_contain_text("word20")
    words = last_text(page).split()  # while it streams: no gap, no duplicate
    assert words == [f"word{i}" for i in range(len(words))]
    wait_idle(page)
    assert len(followed) == 1 and "after=" in followed[0] and not followed[0].endswith("after=0")
    assert page.locator(".msg").count() == before + 2
    assert last_text(page) == FULL
    assert live.problems == []


def test_reload_during_continue_keeps_the_start_of_the_reply_once(page: Any, live: Live) -> None:
    open_chat(page, live, "Wren")
    new_chat(page)
    live.book.scripts.append(Script(["Once upon a time."]))
    send(page, "A story?")
    wait_idle(page)
    live.book.scripts.append(Script([f" c{i}" for i in range(40)], delay=0.06))
    page.click("[data-testid=more]")
    page.click("[data-testid=menu-continue]")
    expect(page.locator("[data-testid=message-text]").last).to_contain_text("c3")
    page.reload()
    page.wait_for_selector(".msg.streaming")
    expect(page.locator("[data-testid=message-text]").last).to_contain_text("c20")
    streaming = last_text(page)
    assert streaming.startswith("Once upon a time. c0 c1 c2") and streaming.count("c3 ") == 1
    wait_idle(page)
    assert last_text(page) == "Once upon a time." + "".join(f" c{i}" for i in range(40))
    assert live.problems == []
