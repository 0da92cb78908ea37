"""Branches and checkpoints: a new chat with the history up to a message, SillyTavern's
``main_chat``, ``branches`` and ``bookmark_link``, kept through JSONL export and import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytavern.engine.services import Services
from pytavern.settings import Settings
from pytavern.store import NewMessage


@pytest.fixture
def services(data_dir: Path) -> Services:
    return Services.open(Settings(data_dir=data_dir))


def long_chat(services: Services) -> int:
    character = services.characters.all()[0]
    messages = [
        NewMessage(role="user" if i % 2 else "assistant", name="", swipes=[f"m{i}"])
        for i in range(6)
    ]
    messages[2] = NewMessage(role="assistant", name="", swipes=["a", "b"], active_swipe=1)
    store = services.engine.store
    return store.import_chat(character.id, title="Main", metadata={"x": 1}, messages=messages).id


def test_branch_copies_history_and_links_both_ways(services: Services) -> None:
    chat_id = long_chat(services)
    at = services.chats.history(chat_id)[3]
    branch = services.chats.branch(at.id)
    assert branch.title.startswith("Branch #3 - ")
    copied = services.chats.history(branch.id)
    assert [m.text for m in copied] == ["m0", "m1", "b", "m3"]
    assert copied[2].swipe_count == 2 and copied[2].active_swipe == 1
    assert branch.metadata["main_chat"] == "Main" and branch.metadata["x"] == 1
    marked = services.messages.get(at.id)
    assert marked.extra["st"]["extra"]["branches"] == [branch.title]
    assert services.chats.links(branch.id)["main"] == {"id": chat_id, "title": "Main"}
    children = services.chats.links(chat_id)["children"]
    assert [(c["id"], c["kind"]) for c in children] == [(branch.id, "branch")]
    assert len(services.chats.history(chat_id)) == 6  # the main chat is unchanged


def test_checkpoint_names_and_message_link(services: Services) -> None:
    chat_id = long_chat(services)
    first = services.chats.history(chat_id)[1]
    named = services.chats.checkpoint(first.id, "Before the duel")
    assert named.title.startswith("Before the duel - ")
    assert len(services.chats.history(named.id)) == 2
    unnamed = services.chats.checkpoint(first.id)
    assert unnamed.title.startswith("Checkpoint #")
    from pytavern.engine.services.chats import message_public

    shown = message_public(services.messages.get(first.id))
    assert shown["checkpoint"] == unnamed.title and shown["branches"] == []


def test_links_survive_sillytavern_export_and_import(services: Services) -> None:
    chat_id = long_chat(services)
    at = services.chats.history(chat_id)[4]
    branch = services.chats.branch(at.id)
    checkpoint = services.chats.checkpoint(at.id, "cp")
    main_file = services.chats.export(chat_id)
    lines = [json.loads(line) for line in main_file.decode().splitlines()]
    assert lines[5]["extra"]["branches"] == [branch.title]
    assert lines[5]["extra"]["bookmark_link"] == checkpoint.title
    branch_file = services.chats.export(branch.id)
    assert json.loads(branch_file.decode().splitlines()[0])["chat_metadata"]["main_chat"] == "Main"
    character = services.characters.all()[0].id
    again = services.chats.import_bytes(main_file, "Main.jsonl", character)
    again_branch = services.chats.import_bytes(branch_file, f"{branch.title}.jsonl", character)
    assert again_branch.metadata["main_chat"] == "Main"
    shown = services.chats.history(again.id)[4]
    assert shown.extra["st"]["extra"]["branches"] == [branch.title]


def test_a_native_message_gets_a_complete_sillytavern_line(services: Services) -> None:
    chat_id = services.chats.start(services.characters.all()[0].id).id
    greeting = services.chats.history(chat_id)[0]
    services.chats.checkpoint(greeting.id, "start")
    line = json.loads(services.chats.export(chat_id).decode().splitlines()[1])
    assert line["extra"]["bookmark_link"].startswith("start - ")
    assert line["mes"] == greeting.text and "send_date" in line and line["is_user"] is False


def test_chats_sharing_a_title_get_unique_names_before_a_branch(services: Services) -> None:
    character = services.characters.all()[0].id
    first = services.chats.start(character)
    second = services.chats.start(character)
    assert first.title == second.title == "Wren"
    greeting = services.chats.history(second.id)[0]
    branch = services.chats.branch(greeting.id)
    renamed = services.chats.get(second.id)
    assert renamed.title.startswith("Wren - ") and branch.metadata["main_chat"] == renamed.title
    assert services.chats.links(branch.id)["main"] == {"id": second.id, "title": renamed.title}
    assert services.chats.get(first.id).title == "Wren"


def test_two_branches_at_once_get_different_names(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytavern.engine import branches

    monkeypatch.setattr(branches, "humanized", lambda moment=None: "2026-01-01@10h00m00s")
    chat_id = long_chat(services)
    at = services.chats.history(chat_id)[2]
    first, second = services.chats.branch(at.id), services.chats.branch(at.id)
    assert first.title == "Branch #2 - 2026-01-01@10h00m00s"
    assert second.title == first.title + " (2)"
    marked = services.messages.get(at.id).extra["st"]["extra"]["branches"]
    assert marked == [first.title, second.title]
