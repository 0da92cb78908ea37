"""The CLI over the text backends' fakes: connections add/test/models and send --json."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pytavern.cli import cli
from tests.fakes import horde, kobold, llamacpp, novelai, ollama, openai_text
from tests.fakes.server import FaultPlan, serve

SECRET = "nai-test-SECRET-9876"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(data_dir: Path) -> Run:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(cli, ["--data-dir", str(data_dir), *args], input=input)
        return result.exit_code, result.stdout, result.stderr

    return invoke


@pytest.fixture
def plan() -> FaultPlan:
    return FaultPlan()


APPS = {
    "koboldcpp": lambda plan: kobold.create_app(plan),
    "kobold": lambda plan: kobold.create_app(plan, united=True),
    "ooba": lambda plan: openai_text.create_app(plan, "ooba"),
    "tabby": lambda plan: openai_text.create_app(plan, "tabby"),
    "vllm": lambda plan: openai_text.create_app(plan, "vllm"),
    "llamacpp": lambda plan: llamacpp.create_app(plan),
    "ollama": lambda plan: ollama.create_app(plan),
}
MODELS = {"ollama": "llama3.2:3b", "vllm": "fake-13b"}


@pytest.fixture(params=sorted(APPS))
def backend(request: pytest.FixtureRequest, plan: FaultPlan) -> Iterator[tuple[str, str]]:
    api = request.param
    with serve(APPS[api](plan)) as base:
        yield api, base


def add(run: Run, name: str, api: str, url: str, *extra: str, input: str | None = None) -> None:
    code, _out, err = run(
        "connections", "add", name, "--api", api, "--url", url, *extra, input=input
    )
    assert code == 0, err


def test_add_test_models_send(run: Run, backend: tuple[str, str]) -> None:
    api, url = backend
    model = ("--model", MODELS[api]) if api in MODELS else ()
    add(run, "b", api, url, *model, "--option", "timeout_first_byte=5")
    code, out, err = run("connections", "test", "b", "--json")
    assert code == 0, out + err
    status = json.loads(out)
    assert status["ok"] and "temperature" in status["details"]["samplers"]
    code, out, _ = run("connections", "models", "b", "--json")
    assert code == 0 and json.loads(out)
    code, out, err = run("send", "Hello there", "--connection", "b", "--json")
    assert code == 0, out + err
    reply = json.loads(out)
    assert reply["reply"].startswith("Hello") and reply["finish_reason"] in ("stop", "length")
    assert reply["error"] is None


def test_connection_refused_is_one_clear_line(run: Run) -> None:
    add(run, "down", "koboldcpp", "http://127.0.0.1:9", "--option", "max_retries=0")
    code, out, _ = run("connections", "test", "down")
    assert code == 1 and "FAILED" in out and "what to do:" in out


def test_horde_send_prints_queue_status(run: Run, plan: FaultPlan) -> None:
    with serve(horde.create_app(plan, polls=4)) as base:
        add(run, "h", "horde", base + "/api", "--option", "poll_interval=0.05")
        code, out, _ = run("connections", "test", "h", "--json")
        assert code == 0 and json.loads(out)["details"]["kudos"] == 0
        code, out, err = run("send", "Hello", "--connection", "h")
        assert code == 0, err
        assert "waiting in the Horde queue: position 2" in err
        assert out.startswith("Hello, traveler.")
        code, out, err = run("send", "Hello", "--connection", "h", "--json")
        assert code == 0 and json.loads(out)["reply"].startswith("Hello")
        assert "Horde queue" in err


def test_novelai_key_from_stdin_never_printed(run: Run, plan: FaultPlan) -> None:
    with serve(novelai.create_app(plan, key=SECRET)) as base:
        add(run, "n", "novelai", base, "--key", "-", input=SECRET + "\n")
        code, out, err = run("connections", "test", "n", "--json")
        assert code == 0 and json.loads(out)["details"]["tier_name"] == "Opus"
        code, out, err = run("send", "Hi", "--connection", "n", "--json")
        assert code == 0 and json.loads(out)["reply"].startswith("Hello")
        add(run, "bad", "novelai", base, "--key", "-", input="wrong-key\n")
        code, out, err = run("send", "Hi", "--connection", "bad", "--json")
        assert code == 1 and "refused" in json.loads(out)["error"]["message"]
        assert SECRET not in out + err and "wrong-key" not in out + err
