"""The command line against each chat-backend fake: connections add/test/models, send --json."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pytavern.cli import cli
from tests.fakes import anthropic_fake, gemini_fake, openai_fake
from tests.providers.chat_helpers import fake

Invoke = Callable[..., tuple[int, str, str]]

BACKENDS: dict[str, tuple[Any, str, str, str]] = {
    # api: (fake factory, url suffix, key, model)
    "openai": (openai_fake.create_app, "/v1", openai_fake.DEFAULT_KEY, "gpt-4o-mini"),
    "custom": (openai_fake.create_app, "", openai_fake.DEFAULT_KEY, "gpt-4o-mini"),
    "claude": (anthropic_fake.create_app, "", anthropic_fake.DEFAULT_KEY, "claude-haiku-4-5"),
    "gemini": (gemini_fake.create_app, "", gemini_fake.DEFAULT_KEY, "gemini-2.5-flash"),
}


@pytest.fixture
def invoke(data_dir: Path) -> Invoke:
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["--data-dir", str(data_dir), *args], input=input)
        return result.exit_code, result.stdout, result.stderr

    return run


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, Any]]:
    api = request.param
    factory, suffix, _key, _model = BACKENDS[api]
    with fake(factory) as (url, plan):
        yield api, url + suffix, plan


def _add(invoke: Invoke, api: str, url: str, key: str, *extra: str) -> None:
    model = BACKENDS[api][3]
    code, out, err = invoke(
        "connections", "add", "up", "--api", api, "--url", url, "--model", model,
        "--option", "max_retries=0", *extra, "--key", "-", "--json", input=key + "\n",
    )  # fmt: skip
    assert code == 0, err
    assert key not in out


def test_add_test_models_and_send(invoke: Invoke, backend: tuple[str, str, Any]) -> None:
    api, url, plan = backend
    key = BACKENDS[api][2]
    _add(invoke, api, url, key, "--default")
    code, out, err = invoke("connections", "test", "up", "--json")
    assert code == 0, out + err
    status = json.loads(out)
    assert status["ok"] and BACKENDS[api][3] in status["models"]
    code, out, _ = invoke("connections", "models", "up", "--json")
    assert code == 0 and BACKENDS[api][3] in [m["id"] for m in json.loads(out)]
    code, out, err = invoke("send", "hello backend", "--connection", "up", "--json")
    assert code == 0, out + err
    reply = json.loads(out)
    assert reply["reply"].startswith("Echo: ") and reply["finish_reason"] == "stop"
    assert reply["connection"] == "up"
    assert plan.requests[-1]["body"] is not None
    assert all(key not in json.dumps(r["query"]) for r in plan.requests)


def test_bad_key_fails_with_hint_and_no_key(invoke: Invoke, backend: tuple[str, str, Any]) -> None:
    api, url, _plan = backend
    wrong = "wrong-key-0123456789-SECRET"
    _add(invoke, api, url, wrong)
    code, out, err = invoke("connections", "test", "up", "--json")
    status = json.loads(out)
    assert code == 1 and not status["ok"] and status["hint"]
    assert wrong not in out + err
    code, out, err = invoke("send", "hi", "--connection", "up", "--json")
    assert code == 1 and wrong not in out + err
    payload = json.loads(out)
    assert "up" in payload["error"]["message"] and payload["error"]["hint"]


def test_fault_mid_stream_keeps_partial_reply(
    invoke: Invoke, backend: tuple[str, str, Any]
) -> None:
    api, url, plan = backend
    _add(invoke, api, url, BACKENDS[api][2])
    plan.arm("cut")
    code, out, _err = invoke("send", "one two three", "--connection", "up", "--json")
    payload = json.loads(out)
    assert code == 1 and payload["finish_reason"] == "error"
    assert payload["reply"] == "Echo:" and "cut" in payload["error"]["message"]


def test_missing_key_says_how_to_set_it(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    code, _out, err = invoke("connections", "add", "c", "--api", "claude")
    assert code == 0, err
    code, out, _err = invoke("connections", "test", "c", "--json")
    status = json.loads(out)
    assert code == 1 and "ANTHROPIC_API_KEY" in status["hint"]
    assert "pytavern connections add c --api claude --key -" in status["hint"]
