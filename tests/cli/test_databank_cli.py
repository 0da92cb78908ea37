"""``pytavern databank add | list | show | enable | disable | remove``: documents attached
to every chat, a character or one chat, and a turn's prompt carrying what they hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.invoke import Run, with_scripted
from tests.scripted import Script, ScriptBook

ORRIN = "The lighthouse keeper is called Orrin; he keeps a grey cat named Mizzen."


@pytest.fixture
def run(data_dir: Path, scripted: ScriptBook) -> Run:
    return with_scripted(data_dir)


def _new_chat(run: Run) -> int:
    code, out, err = run("send", "Good morning", "--new", "--json")
    assert code == 0, err
    chat_id: int = json.loads(out)["chat_id"]
    return chat_id


def _listed(run: Run, *args: str) -> list[tuple[int, str, str]]:
    code, out, err = run("databank", "list", *args, "--json")
    assert code == 0, err
    return [(d["id"], d["scope"], d["name"]) for d in json.loads(out)]


def test_add_list_show_switch_and_remove(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "harbour.md"
    source.write_text(f"# Harbour\n\n{ORRIN}\n")
    chat, other = _new_chat(run), _new_chat(run)
    code, out, err = run("databank", "add", str(source), "--character", "Wren")
    assert code == 0, err
    assert out.strip() == "attached 'harbour.md' (id 1) to Wren's chats: 1 chunk"
    code, out, err = run("databank", "add", "--text", "Tides turn at noon.", "--name", "Tides")
    assert code == 0, err
    assert out.strip() == "attached 'Tides' (id 2) to every chat: 1 chunk"
    code, out, err = run(
        "databank", "add", "-", "--name", "Mine", "--chat", str(chat), "--json", input="Notes."
    )
    assert code == 0, err
    mine = json.loads(out)
    assert (mine["id"], mine["scope"], mine["chat_id"], mine["enabled"]) == (3, "chat", chat, True)
    assert (mine["length"], mine["chunks"]) == (len("Notes."), 1)
    theirs = ("--text", "Elsewhere.", "--name", "Theirs", "--chat", str(other))
    assert run("databank", "add", *theirs)[0] == 0

    everyone = [(2, "global", "Tides"), (1, "character", "harbour.md")]
    assert _listed(run, "--chat", str(chat)) == [*everyone, (3, "chat", "Mine")]
    assert _listed(run, "--character", "1") == everyone  # by id as well as by name
    assert _listed(run) == [*everyone, (3, "chat", "Mine"), (4, "chat", "Theirs")]
    code, out, _err = run("databank", "list", "--chat", str(chat))
    lines = out.splitlines()
    assert lines[0].split() == ["2", "global", "Tides", "(19", "characters,", "1", "chunk)"]
    assert lines[1].split()[:4] == ["1", "character", "Wren", "harbour.md"]
    assert lines[2].split()[:3] == ["3", "chat", str(chat)]

    code, out, _err = run("databank", "show", "1")
    assert code == 0 and out == f"# Harbour\n\n{ORRIN}\n"
    shown = json.loads(run("databank", "show", "1", "--json")[1])
    assert shown["text"] == f"# Harbour\n\n{ORRIN}" and shown["name"] == "harbour.md"

    assert run("databank", "disable", "1")[1].strip() == "disabled 'harbour.md' (id 1)"
    assert run("databank", "list")[1].splitlines()[1].endswith("[disabled]")
    assert json.loads(run("databank", "show", "1", "--json")[1])["enabled"] is False
    enabled = json.loads(run("databank", "enable", "1", "--json")[1])
    assert enabled["enabled"] is True
    assert "[disabled]" not in run("databank", "list")[1]

    assert run("databank", "remove", "3")[1].strip() == "removed 'Mine' (id 3)"
    assert _listed(run, "--chat", str(chat)) == everyone
    code, _out, err = run("databank", "show", "3")
    assert code == 1 and err.strip() == (
        "error: no document with id 3. List the Data Bank's documents to see ids"
    )


def test_a_file_is_renamed_and_an_empty_bank_says_so(run: Run, tmp_path: Path) -> None:
    assert run("databank", "list")[1].strip() == "no documents"
    assert _listed(run) == []
    source = tmp_path / "page.html"
    source.write_text("<html><body><h1>Keeper</h1><p>Orrin</p><script>x()</script></body></html>")
    code, out, err = run("databank", "add", str(source), "--name", "Keeper page", "--json")
    assert code == 0, err
    assert json.loads(out)["name"] == "Keeper page"
    assert run("databank", "show", "1")[1] == "Keeper\n\nOrrin\n"  # read as HTML, not as text


def test_a_word_file_and_unknown_owners_are_refused_with_a_hint(run: Run, tmp_path: Path) -> None:
    book = tmp_path / "book.doc"
    book.write_bytes(b"PK\x03\x04")
    code, out, err = run("databank", "add", str(book))
    assert code == 1 and out == ""
    assert err.strip() == (
        "error: the Data Bank reads text files, PDFs, .docx and .epub files, not .doc files. "
        "Save it as text (.txt, .md, .html, .json, .csv), PDF or .docx and attach that"
    )
    code, out, _err = run("databank", "add", str(book), "--json")
    assert code == 1 and json.loads(out)["error"]["type"] == "ConfigError"
    notes = tmp_path / "notes.txt"
    notes.write_text(ORRIN)
    code, _out, err = run("databank", "add", str(notes), "--chat", "999")
    assert code == 1 and err.strip() == (
        "error: no chat with id 999. List chats with `pytavern chats list`"
    )
    code, _out, err = run("databank", "list", "--chat", "999")
    assert code == 1 and "no chat with id 999" in err
    code, _out, err = run("databank", "add", str(notes), "--character", "Nobody")
    assert code == 1 and "Known characters: Wren" in err
    for refused in ("enable", "disable", "remove"):
        code, _out, err = run("databank", refused, "42")
        assert code == 1 and "no document with id 42" in err
    assert _listed(run) == []


def test_what_to_attach_and_where_is_said_once(run: Run, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text(ORRIN)
    cases = [
        (("databank", "add"), "give a FILE"),
        (("databank", "add", str(notes), "--text", "x"), "give a FILE"),
        (("databank", "add", "--text", "x"), "text needs a --name"),
        (("databank", "add", "-"), "text needs a --name"),
        (("databank", "add", str(notes), "--character", "Wren", "--chat", "1"), "not both"),
        (("databank", "list", "--character", "Wren", "--chat", "1"), "not both"),
    ]
    for args, message in cases:
        code, _out, err = run(*args)
        assert code == 2 and message in err, (args, err)
    assert _listed(run) == []


def test_a_turn_carries_the_chunk_a_message_shares_words_with(
    run: Run, scripted: ScriptBook, tmp_path: Path
) -> None:
    chat = _new_chat(run)
    source = tmp_path / "keeper.txt"
    source.write_text(ORRIN)
    assert run("databank", "add", str(source), "--chat", str(chat))[0] == 0
    scripted.scripts.append(Script(["He is Orrin."]))
    code, _out, err = run("send", "Who is Orrin?", "--chat", str(chat), "--json")
    assert code == 0, err
    assert any(ORRIN in m.content for m in scripted.requests[-1].messages)
    assert run("databank", "disable", "1")[0] == 0
    assert run("send", "Who is Orrin?", "--chat", str(chat))[0] == 0
    assert all(ORRIN not in m.content for m in scripted.requests[-1].messages)


def test_add_makes_the_vectors_when_the_data_bank_searches_by_meaning(
    run: Run, data_dir: Path
) -> None:
    from tests.fakes import openai_fake
    from tests.fakes.server import FaultPlan, serve

    plan = FaultPlan()
    with serve(openai_fake.create_app(plan, key="sk-cli-embed-0123456789")) as base:
        add = ("connections", "add", "embed", "--api", "custom", "--url", f"{base}/v1")
        assert run(*add, "--key", "-", input="sk-cli-embed-0123456789")[0] == 0
        chosen = ("embeddings.connection=embed", "embeddings.model=text-embedding-3-small")
        assert run("settings", "set", *chosen)[0] == 0
        code, _out, err = run("databank", "add", "--text", ORRIN, "--name", "Keeper")
        assert code == 0, err
    embedded = [r for r in plan.requests if r["path"] == "/v1/embeddings"]
    assert [r["body"]["input"] for r in embedded] == [[ORRIN]]
    assert embedded[0].get("completed")  # answered with the vectors (the key was right)
