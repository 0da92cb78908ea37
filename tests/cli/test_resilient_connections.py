"""Connections that keep working, from the command line against the fakes: several keys
with rotation, fallback chains, the usage ledger."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pytavern.cli import cli
from pytavern.engine.services import Services
from pytavern.settings import Settings
from tests.fakes import anthropic_fake, openai_fake
from tests.fakes.server import FaultPlan
from tests.providers.chat_helpers import fake

Invoke = Callable[..., tuple[int, str, str]]
WRONG = "sk-wrong-key-000000000000wxyz"
FAST = ("--option", "retry_base_delay=0.01", "--option", "retry_max_delay=0.02")


@pytest.fixture
def invoke(data_dir: Path) -> Invoke:
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["--data-dir", str(data_dir), *args], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture
def openai_up() -> Iterator[tuple[str, FaultPlan]]:
    with fake(openai_fake.create_app) as (url, plan):
        yield url + "/v1", plan


@pytest.fixture
def claude_up() -> Iterator[tuple[str, FaultPlan]]:
    with fake(anthropic_fake.create_app) as (url, plan):
        yield url, plan


def _send(invoke: Invoke, text: str, connection: str) -> tuple[int, dict[str, Any], str]:
    named = ("--connection", connection) if connection else ()
    code, out, err = invoke("send", text, *named, "--json")
    return code, json.loads(out) if out.strip() else {}, err


def _add_openai(invoke: Invoke, url: str, *extra: str, keys: str | None = None) -> None:
    code, out, err = invoke(
        "connections", "add", "up", "--api", "openai", "--url", url, "--model", "gpt-4o-mini",
        *FAST, *extra, "--json", input=keys,
    )  # fmt: skip
    assert code == 0, out + err


def test_wrong_key_first_then_right_key_answers(
    invoke: Invoke, openai_up: tuple[str, FaultPlan]
) -> None:
    url, plan = openai_up
    right = openai_fake.DEFAULT_KEY
    _add_openai(invoke, url, "--key", "-", "--key", "-", keys=f"{WRONG}\n{right}\n")
    code, reply, err = _send(invoke, "hello keys", "up")
    assert code == 0, err
    assert reply["reply"].startswith("Echo: ") and reply["connection"] == "up"
    assert [r["headers"]["authorization"] for r in plan.requests] == [
        f"Bearer {WRONG}",
        f"Bearer {right}",
    ]
    code, out, _ = invoke("connections", "keys", "up")
    assert code == 0
    assert "key ...wxyz: refused at " in out and "key ...cdef: usable" in out
    code, listed, _ = invoke("connections", "list", "--json")
    assert WRONG not in listed and right not in listed and WRONG not in out
    states = [k["state"] for k in json.loads(listed)[-1]["keys"]]
    assert states == ["refused", "ok"]
    # Later requests go straight to the key that works.
    before = len(plan.requests)
    code, reply, err = _send(invoke, "again", "up")
    assert code == 0, err
    assert [r["headers"]["authorization"] for r in plan.requests[before:]] == [f"Bearer {right}"]


def test_key_variables_rotate_too(
    invoke: Invoke, openai_up: tuple[str, FaultPlan], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _plan = openai_up
    monkeypatch.setenv("KEY_A", WRONG)
    monkeypatch.setenv("KEY_B", openai_fake.DEFAULT_KEY)
    _add_openai(invoke, url, "--key-env", "KEY_A", "--key-env", "KEY_B")
    code, reply, err = _send(invoke, "hello vars", "up")
    assert code == 0, err
    assert reply["reply"].startswith("Echo: ")
    code, out, _ = invoke("connections", "keys", "up", "--json")
    sources = [(k["source"], k["state"]) for k in json.loads(out)]
    assert sources[:2] == [("env:KEY_A", "refused"), ("env:KEY_B", "ok")]


def test_all_keys_refused_fails_with_the_refusal(
    invoke: Invoke, openai_up: tuple[str, FaultPlan]
) -> None:
    url, plan = openai_up
    _add_openai(invoke, url, "--key", "-", "--key", "-", keys=f"{WRONG}\nsk-also-wrong-0000\n")
    code, reply, _err = _send(invoke, "hello", "up")
    assert code == 1
    assert "refused" in reply["error"]["message"]
    assert len(plan.requests) == 2


def _add_claude(invoke: Invoke, url: str, *extra: str) -> None:
    code, out, err = invoke(
        "connections", "add", "claude-up", "--api", "claude", "--url", url,
        "--model", "claude-haiku-4-5", *extra, "--key", "-", "--json",
        input=anthropic_fake.DEFAULT_KEY + "\n",
    )  # fmt: skip
    assert code == 0, out + err


def test_failing_upstream_falls_back_to_claude(
    invoke: Invoke, openai_up: tuple[str, FaultPlan], claude_up: tuple[str, FaultPlan]
) -> None:
    url, plan = openai_up
    _add_claude(invoke, claude_up[0])
    keys = openai_fake.DEFAULT_KEY + "\n"
    _add_openai(invoke, url, "--fallback", "claude-up", "--key", "-", keys=keys)
    plan.arm(*["500"] * 10)
    code, reply, err = _send(invoke, "hello fallback", "up")
    assert code == 0, (reply, claude_up[1].requests)
    assert reply["connection"] == "claude-up" and reply["model"] == "claude-haiku-4-5"
    assert reply["reply"].startswith("Echo: ")
    assert len(plan.requests) == 3  # the request and its two retries
    body = claude_up[1].requests[-1]["body"]
    assert body["model"] == "claude-haiku-4-5" and "hello fallback" in json.dumps(body)
    code, out, _ = invoke("chats", "list", "--json")
    code, out, err = invoke("usage", "--json", "--by", "connection")
    assert code == 0, err
    usage = json.loads(out)
    rows = usage["requests"]
    assert [(r["connection"], r["outcome"]) for r in rows] == [
        ("up", "error"),
        ("claude-up", "ok"),
    ]
    assert rows[0]["error"] == "UpstreamServerError" and rows[0]["output_tokens"] is None
    assert rows[1]["input_tokens"] > 0 and rows[1]["output_tokens"] > 0
    assert rows[1]["ttft"] is not None and rows[1]["cost"] > 0
    assert {g["key"] for g in usage["groups"]} == {"up", "claude-up"}
    code, out, _ = invoke("usage")
    assert "claude-up" in out and code == 0


def test_no_fallback_once_text_arrived(
    invoke: Invoke, openai_up: tuple[str, FaultPlan], claude_up: tuple[str, FaultPlan]
) -> None:
    url, plan = openai_up
    _add_claude(invoke, claude_up[0])
    keys = openai_fake.DEFAULT_KEY + "\n"
    _add_openai(invoke, url, "--fallback", "claude-up", "--key", "-", keys=keys)
    plan.arm("cut")
    code, reply, _err = _send(invoke, "hello there friend of mine", "up")
    assert code == 1
    assert reply["connection"] == "up" and reply["reply"]
    assert claude_up[1].requests == []


def test_fallback_must_name_another_existing_connection(invoke: Invoke) -> None:
    code, _out, err = invoke("connections", "add", "a", "--api", "openai", "--fallback", "nope")
    assert code != 0 and "does not exist" in err


def test_caching_claude_turns_report_cache_reads(invoke: Invoke, data_dir: Path) -> None:
    with fake(anthropic_fake.create_app, cache_min_tokens=30) as (url, plan):
        _add_claude(invoke, url, "--option", "prompt_cache=true", "--option", "cache_depth=1")
        code, first, err = _send(invoke, "hello cache", "claude-up")
        assert code == 0, err
        code, second, err = _send(invoke, "hello again", "claude-up")
        assert code == 0, err
    body = plan.requests[-1]["body"]
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert any(isinstance(m["content"], list) for m in body["messages"])
    assert first["usage"]["cache_write_tokens"] > 0
    assert second["usage"]["cached_tokens"] > 0
    code, out, _ = invoke("usage", "--json")
    rows = json.loads(out)["requests"]
    assert rows[-1]["cached_tokens"] == second["usage"]["cached_tokens"]
    assert rows[-1]["cost"] is not None
    services = Services.open(Settings(data_dir=data_dir))
    try:
        view = services.chats.last_prompt(second["chat_id"])
    finally:
        services.engine.store.close()
    assert view is not None
    marks = view["cache"]["breakpoints"]
    assert [m["where"] for m in marks] == ["system", "history"] and view["cache"]["ttl"] == "5m"


def test_a_profile_switches_a_chat_in_one_step(
    invoke: Invoke, openai_up: tuple[str, FaultPlan], claude_up: tuple[str, FaultPlan]
) -> None:
    url, oai = openai_up
    _add_claude(invoke, claude_up[0])
    _add_openai(invoke, url, "--default", "--key", "-", keys=openai_fake.DEFAULT_KEY + "\n")
    code, out, err = invoke(
        "profiles", "add", "actor-claude", "--connection", "claude-up",
        "--model", "claude-sonnet-4-5", "--sysprompt", "Actor", "--json",
    )  # fmt: skip
    assert code == 0, out + err
    code, out, err = invoke("profiles", "add", "bad", "--connection", "up", "--sysprompt", "Nope")
    assert code != 0 and "Nope" in err
    code, first, err = _send(invoke, "hello default", "")
    assert code == 0 and first["connection"] == "up", err
    chat = str(first["chat_id"])
    code, _out, err = invoke("profiles", "use", "actor-claude", "--chat", chat)
    assert code == 0, err
    code, out, err = invoke("send", "hello profile", "--chat", chat, "--json")
    reply = json.loads(out)
    assert code == 0 and reply["connection"] == "claude-up", err
    assert reply["model"] == "claude-sonnet-4-5"
    body = claude_up[1].requests[-1]["body"]
    assert body["model"] == "claude-sonnet-4-5" and "expert actor" in json.dumps(body["system"])
    code, _out, err = invoke("profiles", "use", "--chat", chat)
    assert code == 0, err
    code, out, err = invoke("send", "hello again", "--chat", chat, "--json")
    assert json.loads(out)["connection"] == "up" and len(oai.requests) == 2
    code, out, _ = invoke("profiles", "list", "--json")
    assert [p["name"] for p in json.loads(out)] == ["actor-claude"]


def test_an_unreachable_upstream_falls_back(
    invoke: Invoke, claude_up: tuple[str, FaultPlan]
) -> None:
    _add_claude(invoke, claude_up[0])
    code, out, err = invoke(
        "connections", "add", "dead", "--api", "custom", "--url", "http://127.0.0.1:9/v1",
        "--model", "m", "--option", "max_retries=0", "--fallback", "claude-up",
    )  # fmt: skip
    assert code == 0, out + err
    code, reply, err = _send(invoke, "anyone there", "dead")
    assert code == 0 and reply["connection"] == "claude-up", err
    code, out, _ = invoke("usage", "--json")
    rows = json.loads(out)["requests"]
    assert [(r["connection"], r["error"]) for r in rows] == [
        ("dead", "ConnectFailedError"),
        ("claude-up", None),
    ]


def test_a_removed_fallback_leaves_the_first_failure(
    invoke: Invoke, openai_up: tuple[str, FaultPlan], claude_up: tuple[str, FaultPlan]
) -> None:
    url, plan = openai_up
    _add_claude(invoke, claude_up[0])
    keys = openai_fake.DEFAULT_KEY + "\n"
    _add_openai(invoke, url, "--fallback", "claude-up", "--key", "-", keys=keys)
    assert invoke("connections", "remove", "claude-up")[0] == 0
    plan.arm(*["500"] * 5)
    code, reply, _err = _send(invoke, "hello", "up")
    assert code == 1 and "HTTP 500" in reply["error"]["message"]
    assert claude_up[1].requests == []
