"""The Data Bank in the web UI: documents attached in "This chat's settings" (to this chat,
its character or every chat), switched off, removed and refused; the chunks a reply's
request carries; a group's chat settings; and the Settings > Prompt > Embeddings
and Data Bank boxes."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    Live,
    open_prompt_settings,
    shoot,
    wait_for,
)
from tests.browser.test_summary_ui import open_chat_settings, open_new_chat, send
from tests.browser.test_ui_a11y import serious_violations
from tests.scripted import Script

pytestmark = pytest.mark.browser

HARBOUR = b"""The harbour master keeps a zyzzyva beetle in a jar on her desk.

She feeds it salt crackers every morning."""
LIGHTHOUSE = b"# Lighthouse\n\nNobody has seen the zyzzyva swim past the lighthouse."


def attach(page: Any, scope: str, name: str, data: bytes, mime: str = "text/plain") -> None:
    """Choose where the document goes and attach the file ``name`` holding ``data``."""
    page.select_option("[data-testid=databank-scope]", scope)
    page.set_input_files(
        "[data-testid=databank-file]", files=[{"name": name, "mimeType": mime, "buffer": data}]
    )


def document(page: Any, name: str) -> Any:
    return page.locator(f"[data-testid=databank-doc][data-name='{name}']")


def shoot_end_on_phone(page: Any, name: str) -> None:
    """Screenshot the dialog scrolled to the Data Bank's Attach row, at phone size (the
    list above it is taller than a phone's screen)."""
    page.set_viewport_size(PHONE)
    page.locator("[data-testid=databank-attach]").scroll_into_view_if_needed()
    page.wait_for_timeout(250)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone-end.png"))
    page.set_viewport_size(DESKTOP)


def request_text(live: Live) -> str:
    """Every message of the last request the scripted backend got, as one text."""
    return "\n".join(str(message.content) for message in live.book.requests[-1].messages)


def test_documents_are_attached_listed_switched_off_and_removed(page: Any, live: Live) -> None:
    databank = live.app.state.services.databank
    chat_id = open_new_chat(page, live, "Wren")
    open_chat_settings(page)
    expect(page.locator("[data-testid=databank-empty]")).to_have_text("No documents yet.")
    page.locator("[data-testid=databank-attach]").scroll_into_view_if_needed()
    shoot(page, "databank-empty")
    scopes = page.locator("[data-testid=databank-scope] option").all_inner_texts()
    assert scopes == ["This chat", "This character (Wren)", "Every chat"]

    attach(page, "chat", "harbour-notes.txt", HARBOUR)
    harbour = document(page, "harbour-notes.txt")
    expect(harbour).to_have_attribute("data-scope", "chat")
    expect(harbour.locator("[data-testid=databank-size]")).to_have_text(
        f"{len(HARBOUR.decode())} characters · 1 chunk"
    )
    attached = page.locator("[data-testid=toast]", has_text="Attached harbour-notes.txt")
    expect(attached).to_be_visible()
    attach(page, "global", "lighthouse.md", LIGHTHOUSE, "text/markdown")
    lighthouse = document(page, "lighthouse.md")
    expect(lighthouse).to_have_attribute("data-scope", "global")
    groups = page.locator("[data-testid=databank-group] .databank-scope")
    expect(groups).to_have_text(["Every chat", "This chat"])
    [chat_doc] = [d for d in databank.list(chat_id=chat_id) if d.name == "harbour-notes.txt"]
    [global_doc] = [d for d in databank.list() if d.name == "lighthouse.md"]
    assert (chat_doc.chat_id, chat_doc.enabled) == (chat_id, True)
    assert (global_doc.scope, global_doc.character_id, global_doc.chat_id) == ("global", None, None)

    # "Use in prompts" is stored at once, without Save
    lighthouse.locator("[data-testid=databank-enabled]").uncheck()
    wait_for(lambda: not databank.get(global_doc.id).enabled)
    expect(lighthouse).to_have_class("databank-doc disabled")
    assert databank.get(chat_doc.id).enabled
    page.locator("[data-testid=databank-attach]").scroll_into_view_if_needed()
    shoot(page, "databank-chat-settings")
    shoot_end_on_phone(page, "databank-chat-settings")
    problems = serious_violations(page)
    assert problems == [], "\n".join(problems)

    # a file that is no text: refused with the server's hint, nothing added
    attach(page, "chat", "report.doc", b"PK\x03\x04", "application/octet-stream")
    refused = page.locator("[data-testid=toast].bad")
    expect(refused).to_contain_text(
        "report.doc: the Data Bank reads text files, PDFs, .docx and .epub files, not .doc files"
    )
    expect(refused.locator(".hint")).to_have_text(
        "Save it as text (.txt, .md, .html, .json, .csv), PDF or .docx and attach that"
    )
    shoot(page, "databank-refused-file")
    expect(page.locator("[data-testid=databank-doc]")).to_have_count(2)
    assert len(databank.list(chat_id=chat_id)) == 2

    # nothing for Save: the dialog closes without asking
    page.keyboard.press("Escape")
    expect(page.locator("[role=dialog]")).to_have_count(0)

    # a reply's request carries the chunk holding the newest message's rare word, and not
    # the one switched off
    live.book.scripts.append(Script(["It crunches crackers."]))
    send(page, "What does the zyzzyva eat?")
    sent = request_text(live)
    assert "Related information:\n" + HARBOUR.decode() in sent
    assert "swim past the lighthouse" not in sent

    # View shows the text kept (what a PDF became); the settings dialog stays under it
    open_chat_settings(page)
    lighthouse.locator("[data-testid=databank-view]").click()
    expect(page.locator("[data-testid=databank-text]")).to_have_value(LIGHTHOUSE.decode())
    shoot(page, "databank-view")
    page.keyboard.press("Escape")
    expect(page.locator("[data-testid=databank-text]")).to_have_count(0)
    expect(page.locator("[data-testid=chat-settings]")).to_be_visible()

    # removing asks first; Cancel keeps the document
    lighthouse.locator("[data-testid=databank-remove]").click()
    expect(page.locator("[role=dialog] h2", has_text="Remove lighthouse.md?")).to_be_visible()
    shoot(page, "databank-remove-confirm")
    page.keyboard.press("Escape")
    expect(lighthouse).to_be_visible()
    lighthouse.locator("[data-testid=databank-remove]").click()
    page.click("[data-testid=confirm]")
    expect(lighthouse).to_have_count(0)
    expect(groups).to_have_text(["This chat"])
    assert [d.name for d in databank.list()] == ["harbour-notes.txt"]
    expect(page.locator("[data-testid=chat-settings]")).to_be_visible()  # the dialog stays
    page.keyboard.press("Escape")
    expect(page.locator("[role=dialog]")).to_have_count(0)
    databank.remove(chat_doc.id)
    # the one 400 is the refused .doc (Chromium logs every failed request)
    assert [p for p in live.problems if "status of 400 (Bad Request)" not in p] == []
    assert len(live.problems) == 1


def test_a_groups_chat_settings_attach_to_a_member(page: Any, live: Live) -> None:
    databank = live.app.state.services.databank
    store = live.app.state.engine.store
    bob = store.add_character(
        {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Bob", "first_mes": "Hi"}}
    )
    group = live.app.state.services.groups.create("Kitchen", ["Bob", "Wren"])
    page.goto(live.url + f"#/group/{group.id}")
    page.wait_for_selector("[data-testid=group-side-member]")
    page.click("[data-testid=group-chat-settings]")
    page.wait_for_selector("[data-testid=chat-settings]")
    expect(page.locator("[data-testid=databank-empty]")).to_be_visible()
    scopes = page.locator("[data-testid=databank-scope] option").all_inner_texts()
    assert scopes == ["This chat", "Bob's chats", "Wren's chats", "Every chat"]
    wren = next(c for c in store.list_characters() if c.name == "Wren")
    attach(page, f"character:{wren.id}", "wren.txt", b"Wren plays the fiddle.")
    attach(page, f"character:{bob.id}", "bob.txt", b"Bob bakes bread at dawn.")
    expect(page.locator("[data-testid=databank-group] .databank-scope")).to_have_text(
        ["Bob's chats", "Wren's chats"]
    )
    expect(document(page, "bob.txt")).to_have_attribute("data-scope", "character")
    [bob_doc] = databank.list(character_id=bob.id)
    [wren_doc] = databank.list(character_id=wren.id)
    assert bob_doc.name == "bob.txt" and wren_doc.name == "wren.txt"
    page.locator("[data-testid=databank-attach]").scroll_into_view_if_needed()
    shoot(page, "databank-group-chat-settings")
    shoot_end_on_phone(page, "databank-group-chat-settings")
    page.keyboard.press("Escape")
    expect(page.locator("[role=dialog]")).to_have_count(0)
    databank.remove(bob_doc.id)
    databank.remove(wren_doc.id)
    assert live.problems == []


def test_databank_settings_are_saved_as_they_are_changed(page: Any, live: Live) -> None:
    preferences = live.app.state.services.preferences
    page.goto(live.url + "#/characters")
    page.wait_for_selector("[data-testid=character-card]")  # the app is up
    open_prompt_settings(page, "databank-settings")
    assert page.input_value("[data-testid=databank-template]") == "Related information:\n{{text}}"
    assert page.is_checked("[data-testid=databank-enabled-setting]")
    assert page.input_value("[data-testid=databank-chunk-size]") == "1000"
    assert page.input_value("[data-testid=databank-position]") == "in_prompt"
    try:
        page.fill("[data-testid=databank-results]", "5")
        page.locator("[data-testid=databank-results]").press("Tab")
        page.fill("[data-testid=databank-chunk-size]", "50")  # below the least: kept at 100
        page.locator("[data-testid=databank-chunk-size]").press("Tab")
        expect(page.locator("[data-testid=databank-chunk-size]")).to_have_value("100")
        page.select_option("[data-testid=databank-position]", "in_chat")
        page.fill("[data-testid=databank-depth]", "6")
        page.locator("[data-testid=databank-depth]").press("Tab")
        page.select_option("[data-testid=databank-role]", "user")
        page.fill("[data-testid=databank-template]", "Notes:\n{{text}}")
        wait_for(lambda: preferences.get().databank.template == "Notes:\n{{text}}")
        db = preferences.get().databank
        assert (db.results, db.chunk_size, db.position, db.depth, db.role) == (
            5,
            100,
            "in_chat",
            6,
            "user",
        )
        page.uncheck("[data-testid=databank-enabled-setting]")
        wait_for(lambda: not preferences.get().databank.enabled)
        shoot(page, "databank-settings")
        problems = serious_violations(page)
        assert problems == [], "\n".join(problems)
    finally:
        preferences.change({"databank": {"enabled": True, "results": 3, "chunk_size": 1000}})
        preferences.change({"databank": {"position": "in_prompt", "depth": 4, "role": "system"}})
        preferences.change({"databank": {"template": "Related information:\n{{text}}"}})
    assert live.problems == []


def stored_embeddings(preferences: Any) -> tuple[str, str, bool, float]:
    """The shared embeddings connection and model, and the Data Bank's switch for search
    by meaning and least score, as stored."""
    stored = preferences.get()
    db = stored.databank
    return (stored.embeddings.connection, stored.embeddings.model, db.by_meaning, db.min_score)


def test_databank_embeddings_are_picked_saved_and_shown_after_a_reload(
    page: Any, live: Live
) -> None:
    preferences = live.app.state.services.preferences
    store = live.app.state.engine.store
    store.save_connection(name="Local llama", api="llamacpp", url="http://127.0.0.1:9")
    store.save_connection(name="Ollama box", api="ollama", url="http://127.0.0.1:9")
    try:
        page.goto(live.url + "#/characters")
        page.wait_for_selector("[data-testid=character-card]")  # the app is up
        open_prompt_settings(page, "embeddings-settings")
        # the Embeddings box comes just before the Data Bank's
        expect(
            page.locator("[data-testid=embeddings-settings] + [data-testid=databank-settings]")
        ).to_have_count(1)
        connection = page.locator("[data-testid=embeddings-connection]")
        expect(connection).to_have_value("")  # by words out of the box
        names = connection.locator("option").all_inner_texts()
        assert names[0] == "None (find by words)"
        assert {"Local llama", "Ollama box", "scripted"} <= set(names[1:])
        assert sorted(names[1:]) == sorted(c.name for c in store.list_connections())
        expect(page.get_by_label("Embeddings connection", exact=True)).to_have_count(1)
        expect(page.get_by_label("Embedding model")).to_have_attribute(
            "placeholder", "the usual one for the connection"
        )
        by_meaning = page.locator("[data-testid=databank-by-meaning]")
        expect(by_meaning).to_be_checked()  # on out of the box
        expect(
            page.get_by_label("Find chunks by meaning (with the Embeddings connection)")
        ).to_have_count(1)
        min_score = page.get_by_label("Minimum score")
        expect(min_score).to_have_value("0.2")
        expect(min_score).to_have_attribute("step", "0.05")

        connection.select_option("Ollama box")
        page.fill("[data-testid=embeddings-model]", "nomic-embed-text")
        by_meaning.uncheck()
        page.fill("[data-testid=databank-min-score]", "0.35")
        page.locator("[data-testid=databank-min-score]").press("Tab")
        wait_for(
            lambda: (
                stored_embeddings(preferences) == ("Ollama box", "nomic-embed-text", False, 0.35)
            )
        )
        by_meaning.check()
        wait_for(lambda: preferences.get().databank.by_meaning)
        page.fill("[data-testid=databank-min-score]", "3")  # above the most: kept at 1
        page.locator("[data-testid=databank-min-score]").press("Tab")
        expect(page.locator("[data-testid=databank-min-score]")).to_have_value("1")
        wait_for(lambda: preferences.get().databank.min_score == 1.0)
        page.fill("[data-testid=databank-min-score]", "0.35")
        page.locator("[data-testid=databank-min-score]").press("Tab")
        chosen = ("Ollama box", "nomic-embed-text", True, 0.35)
        wait_for(lambda: stored_embeddings(preferences) == chosen)

        # after a reload the boxes show what is stored, and the REST API holds it
        page.reload()
        page.wait_for_selector("[data-testid=character-card]")
        open_prompt_settings(page, "embeddings-settings")
        expect(page.locator("[data-testid=embeddings-connection]")).to_have_value("Ollama box")
        expect(page.locator("[data-testid=embeddings-model]")).to_have_value("nomic-embed-text")
        expect(page.locator("[data-testid=databank-by-meaning]")).to_be_checked()
        expect(page.locator("[data-testid=databank-min-score]")).to_have_value("0.35")
        stored = page.request.get(live.url + "api/settings").json()
        assert "embeddings" not in stored["databank"]
        assert "embedding_model" not in stored["databank"]
        assert (
            stored["embeddings"]["connection"],
            stored["embeddings"]["model"],
            stored["databank"]["by_meaning"],
            stored["databank"]["min_score"],
        ) == chosen

        page.locator("[data-testid=embeddings-settings]").evaluate(
            "el => el.scrollIntoView({block: 'start'})"
        )
        shoot(page, "databank-embeddings")
        # a taller window: the Embeddings box and the Data Bank's by-meaning fields in one shot
        page.set_viewport_size({"width": DESKTOP["width"], "height": 1400})
        page.locator("[data-testid=embeddings-settings]").evaluate(
            "el => el.scrollIntoView({block: 'start'})"
        )
        page.wait_for_timeout(150)
        page.screenshot(path=str(SCREENSHOTS / "databank-embeddings.png"))
        page.set_viewport_size(DESKTOP)
        problems = serious_violations(page)
        assert problems == [], "\n".join(problems)

        # a stored name whose connection is gone is still shown, marked
        store.remove_connection("Ollama box")
        page.reload()
        page.wait_for_selector("[data-testid=character-card]")
        open_prompt_settings(page, "embeddings-settings")
        expect(page.locator("[data-testid=embeddings-connection]")).to_have_value("Ollama box")
        expect(page.locator("[data-testid=embeddings-connection] option:checked")).to_have_text(
            "Ollama box (not found)"
        )

        # back to words: "" is stored
        page.select_option("[data-testid=embeddings-connection]", "")
        wait_for(lambda: preferences.get().embeddings.connection == "")
    finally:
        preferences.change(
            {
                "embeddings": {"connection": "", "model": ""},
                "databank": {"by_meaning": True, "min_score": 0.2},
            }
        )
        left = {c.name for c in store.list_connections()}
        for name in {"Local llama", "Ollama box"} & left:
            store.remove_connection(name)
    assert live.problems == []
