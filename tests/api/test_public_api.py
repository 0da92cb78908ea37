"""The public Python API over the scripted provider: sync and async, errors, cleanup."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import pytavern
from pytavern.api import ErrorEvent, Finished, TextDelta, UsageEvent
from pytavern.cli import cli
from pytavern.errors import (
    ConfigError,
    NotFoundError,
    StreamInterruptedError,
    StreamProtocolError,
)
from pytavern.formats.cards import card_from_dict, write_card_png
from pytavern.server import create_app
from pytavern.settings import Settings
from tests.fakes.flavours_chat import FAKES
from tests.fakes.server import FaultPlan, serve
from tests.fakes.vendors.perplexity import CITATIONS
from tests.scripted import Script, ScriptBook, cut_error


@pytest.fixture
def tavern(data_dir: Path, scripted: ScriptBook):  # type: ignore[no-untyped-def]
    with pytavern.open(data_dir=data_dir) as opened:
        opened.connections.add("s", "scripted", default=True)
        yield opened


def test_importing_pytavern_loads_nothing_else() -> None:
    code = "import sys, pytavern; print(sorted(m for m in sys.modules if 'pytavern' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['pytavern']"
    assert pytavern.open is pytavern.api.open
    with pytest.raises(AttributeError):
        _ = pytavern.no_such_name  # type: ignore[attr-defined]


def test_send_stream_and_the_reply(tavern, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    scripted.scripts += [Script(["I am ", "Wren."]), Script(["Then ", "we ", "walk."])]
    chat = tavern.new_chat("Wren")
    reply = chat.send("Hello, who are you?")
    assert reply.text == "I am Wren."
    assert reply.finish_reason == "stop"
    assert reply.usage.input_tokens == 10 and reply.usage.output_tokens == 2
    assert reply.model == "scripted-1"
    assert chat.messages[-1].id == reply.message_id
    assert list(chat.stream("And then?")) == ["Then ", "we ", "walk."]
    texts = [m.text for m in chat.messages]
    assert texts[-4:] == ["Hello, who are you?", "I am Wren.", "And then?", "Then we walk."]
    assert [m.is_user for m in chat.messages[-2:]] == [True, False]


def test_regenerate_swipe_and_continue(tavern, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    scripted.scripts += [Script(["one"]), Script(["two"]), Script(["three"]), Script([" more"])]
    chat = tavern.new_chat()
    first = chat.send("Hi")
    assert chat.regenerate().text == "two"
    swiped = chat.swipe()
    assert swiped.text == "three" and swiped.message_id == first.message_id
    last = chat.messages[-1]
    assert last.swipe_count == 3 and last.swipe_index == 2
    assert chat.continue_().text == "three more"
    assert chat.messages[-1].text == "three more"


def test_summarize_keeps_a_summary_that_later_turns_send(tavern, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    scripted.scripts += [Script(["Hi."]), Script(["Ann greeted ", "Wren."]), Script(["ok"])]
    chat = tavern.new_chat("Wren")
    chat.send("Hello")
    count = len(chat.messages)
    assert chat.summary == ""
    assert chat.summarize() == "Ann greeted Wren."
    assert chat.summary == "Ann greeted Wren." and len(chat.messages) == count
    chat.send("Again")
    sent = [m.content for m in scripted.requests[-1].messages]
    assert "[Summary: Ann greeted Wren.]" in sent
    chat.set_summary("By hand.")
    assert chat.summary == "By hand."
    scripted.scripts.append(Script(["half"], error=cut_error()))
    with pytest.raises(StreamInterruptedError):
        chat.summarize()
    assert chat.summary == "By hand."


def test_a_reply_says_when_the_chat_is_due_a_summary(tavern, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    services = tavern._tavern._services  # the settings have no Python API of their own yet
    services.preferences.change({"summary": {"every": 3}})
    scripted.scripts += [Script(["Hi."]), Script(["They met."]), Script(["ok"])]
    chat = tavern.new_chat("Wren")
    reply = chat.send("Hello")  # greeting, message, reply: 3
    assert reply.summary_due is True
    assert chat.summarize() == "They met."
    assert chat.send("Again").summary_due is False


def test_a_failed_turn_raises_its_error_and_keeps_what_arrived(
    tavern, scripted: ScriptBook
) -> None:  # type: ignore[no-untyped-def]
    scripted.scripts += [Script(["Half a "], error=cut_error()), Script(["x"], error=cut_error())]
    chat = tavern.new_chat()
    with pytest.raises(StreamInterruptedError) as caught:
        chat.send("Tell me")
    assert caught.value.message and caught.value.hint
    assert chat.messages[-1].text == "Half a"
    assert chat.messages[-1].status != "complete"
    pieces: list[str] = []
    with pytest.raises(StreamInterruptedError):
        pieces.extend(chat.stream("Again"))
    assert pieces == ["x"]


def test_a_provider_tripping_over_the_answer_raises_a_protocol_error(
    tavern, scripted: ScriptBook
) -> None:  # type: ignore[no-untyped-def]
    # what a parser raises on a shape it does not know, before and after the first text
    odd = KeyError("choices")
    scripted.scripts += [Script([], error=odd), Script(["Half "], error=TypeError("no int"))]  # type: ignore[arg-type]
    chat = tavern.new_chat()
    with pytest.raises(StreamProtocolError) as caught:
        chat.send("Tell me")
    assert "could not read the answer (KeyError: 'choices')" in caught.value.message
    assert "API type" in (caught.value.hint or "")
    with pytest.raises(StreamProtocolError, match="TypeError: no int"):
        chat.send("Again")
    assert chat.messages[-1].text == "Half" and chat.messages[-1].status != "complete"


def test_breaking_out_of_a_stream_stops_the_reply(tavern, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    scripted.scripts += [Script(["a", "b", "c", "d"], delay=0.05), Script(["next"])]
    chat = tavern.new_chat()
    for piece in chat.stream("Go"):
        assert piece == "a"
        break
    assert scripted.closed >= 1
    assert chat.send("Still there?").text == "next"


def test_errors_name_what_to_do(tavern) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError):
        tavern.new_chat("Nobody")
    with pytest.raises(ConfigError) as caught:
        tavern.connections.add("x", "no-such-api")
    assert caught.value.hint


def test_characters_import_file_and_connections_add(tavern, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    card = card_from_dict({"name": "Moss", "first_mes": "Hello from Moss."})
    path = tmp_path / "card.png"
    path.write_bytes(write_card_png(card, None))
    imported = tavern.characters.import_file(path)
    assert imported.name == "Moss"
    assert tavern.characters.get("Moss").id == imported.id
    chat = tavern.new_chat(imported.id)
    assert [m.text for m in chat.messages] == ["Hello from Moss."]
    view = tavern.connections.add("oa", "openai", url="http://127.0.0.1:9/v1", key="sk-abcd1234")
    assert view.key.is_set and view.key.last4 == "1234"
    assert {c.name for c in tavern.connections.all()} == {"local", "s", "oa"}


def test_close_twice_and_the_loop_thread_ends(data_dir: Path) -> None:
    before = {t.name for t in threading.enumerate()}
    tavern = pytavern.open(data_dir=data_dir)
    assert "pytavern" in {t.name for t in threading.enumerate()} - before
    tavern.close()
    tavern.close()
    assert "pytavern" not in {t.name for t in threading.enumerate()} - before


async def test_async_send_and_the_typed_events(data_dir: Path, scripted: ScriptBook) -> None:
    scripted.scripts += [Script(["Hi ", "there."]), Script(["More."])]
    async with pytavern.open_async(data_dir=data_dir) as tavern:
        tavern.connections.add("s", "scripted", default=True)
        chat = await tavern.new_chat("Wren")
        reply = await chat.send("Hi")
        assert reply.text == "Hi there."
        events = [event async for event in chat.events("Go on")]
        assert [type(e) for e in events] == [TextDelta, UsageEvent, Finished]
        assert not any(isinstance(e, ErrorEvent) for e in events)
        pieces = [piece async for piece in chat.stream("x")]
        assert pieces == ["Hello", " there", "!"]
        assert chat.messages[-1].text == "Hello there!"


def test_cli_and_rest_answer_connection_add_in_one_shape(data_dir: Path) -> None:
    runner = CliRunner()
    args = ["--data-dir", str(data_dir), "connections", "add", "oa", "--api", "openai"]
    url = ["--url", "http://127.0.0.1:9/v1", "--model", "m", "--option", "max_retries=4", "--json"]
    result = runner.invoke(cli, [*args, *url, "--key", "-"], input="sk-abcdefgh1234\n")
    assert result.exit_code == 0, result.stderr
    from_cli = json.loads(result.stdout)

    app = create_app(Settings(data_dir=data_dir / "other"))
    body = {
        "name": "oa",
        "api": "openai",
        "url": "http://127.0.0.1:9/v1",
        "model": "m",
        "options": {"max_retries": 4},
        "key": "sk-abcdefgh1234",
    }

    async def post() -> dict[str, object]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            response = await http.post("/api/connections", json=body)
        await app.state.engine.aclose()
        assert response.status_code == 201, response.text
        answer: dict[str, object] = response.json()
        return answer

    assert asyncio.run(post()) == from_cli
    assert from_cli["key"] == {"set": True, "last4": "1234", "source": "stored"}


def test_a_chat_uses_the_connection_it_is_given(tavern, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    chat = tavern.new_chat(connection="missing")
    assert chat.connection == "missing"
    with pytest.raises(NotFoundError):
        chat.send("Hi")
    chat.connection = "s"
    scripted.scripts.append(Script(["ok"]))
    assert chat.send("Hi").text == "ok"


def test_what_the_backend_tells_besides_the_text_reaches_the_reply(data_dir: Path) -> None:
    fake = FAKES["perplexity"]
    with serve(fake.app(FaultPlan())) as root, pytavern.open(data_dir=data_dir) as tavern:
        tavern.connections.add(
            "pplx",
            "perplexity",
            url=fake.url(root),
            model=fake.model,
            key=fake.key,
            options=dict(fake.options),
            default=True,
        )
        reply = tavern.new_chat("Wren").send("Where is the lighthouse?")
    assert reply.details["citations"] == CITATIONS
    assert [r["url"] for r in reply.details["search_results"]] == CITATIONS
    assert "answered_by" not in reply.details  # the routing's own record stays inside


def _second_character(tavern) -> str:  # type: ignore[no-untyped-def]
    card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {"name": "Ash", "first_mes": "Ash waves."},
    }
    return str(tavern.characters.create(card).name)


def test_a_group_chat_answers_member_by_member(tavern, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    first = tavern.characters.all()[0].name
    second = _second_character(tavern)
    scripted.scripts += [Script(["One."]), Script(["Two."]), Script(["Three."])]
    group = tavern.new_group("Hearth", [first, second], strategy="list")
    assert group.name == "Hearth" and group.members == [first, second]
    assert [m.name for m in group.messages][-1] == second  # each member's greeting
    replies = group.send("Hello, both of you")
    assert [(r.speaker, r.text) for r in replies] == [(first, "One."), (second, "Two.")]
    assert [m.text for m in group.messages][-3:] == ["Hello, both of you", "One.", "Two."]
    assert group.messages[-1].id == replies[-1].reply.message_id
    again = group.swipe()  # the last member's reply, as that member
    assert (again.speaker, again.text) == (second, "Three.")
    assert group.messages[-1].text == "Three." and group.messages[-1].swipe_count == 2
    assert tavern.group("Hearth").id == tavern.group(group.id).id == group.id


def test_a_manual_group_waits_for_a_member_to_be_named(tavern, scripted: ScriptBook) -> None:  # type: ignore[no-untyped-def]
    first = tavern.characters.all()[0].name
    second = _second_character(tavern)
    scripted.scripts += [Script(["Ash here."]), Script(["Half "], error=cut_error())]
    group = tavern.new_group("Quiet", [first, second], strategy="manual")
    assert group.send("Anyone?") == []  # the message is kept; nobody answers by themselves
    assert group.messages[-1].text == "Anyone?"
    answer = group.trigger(second)
    assert (answer.speaker, answer.text) == (second, "Ash here.")
    with pytest.raises(StreamInterruptedError):
        group.trigger(first)
    assert group.messages[-1].text == "Half" and group.messages[-1].status != "complete"
    with pytest.raises(ConfigError, match="unknown strategy"):
        tavern.new_group("Odd", [first], strategy="shouting")
    with pytest.raises(NotFoundError):
        tavern.group("no such group")


async def test_the_async_group_chat(data_dir: Path, scripted: ScriptBook) -> None:
    scripted.scripts += [Script(["Hi from one."]), Script(["Hi from two."])]
    async with pytavern.open_async(data_dir) as tavern:
        tavern.connections.add("s", "scripted", default=True)
        first = tavern.characters.all()[0].name
        card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Ash"}}
        tavern.characters.create(card)
        group = await tavern.new_group("Async", [first, "Ash"], strategy="list")
        replies = await group.send("Hi")
        assert [r.text for r in replies] == ["Hi from one.", "Hi from two."]
        assert isinstance(replies[0], pytavern.api.MemberReply)
        scripted.scripts += [Script(["One ", "more."]), Script(["Two."])]
        seen = [event async for event in group.events("Again")]
        speakers = [e.speaker for e in seen if isinstance(e, pytavern.api.StatusEvent)]
        assert speakers == [first, "Ash"]
        assert isinstance(seen[-1], Finished) and seen[-1].reason == "stop"
        assert [m.text for m in group.messages][-2:] == ["One more.", "Two."]
