"""The CLI over the text backends' fakes: connections add/test/models and send --json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.invoke import Run, invoker
from tests.fakes import horde, kobold, llamacpp, novelai, ollama, openai_text
from tests.fakes.server import FaultPlan, serve

SECRET = "nai-test-SECRET-9876"


@pytest.fixture
def run(data_dir: Path) -> Run:
    return invoker(data_dir)


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
        sent = next(r for r in plan.requests if r["path"] == "/ai/generate-stream")["json"]
        stops = sent["parameters"]["stop_sequences"]  # the instruct template's, as token ids
        assert stops and all(isinstance(ids, list) and ids for ids in stops)
        assert all(type(i) is int for ids in stops for i in ids)
        add(run, "bad", "novelai", base, "--key", "-", input="wrong-key\n")
        code, out, err = run("send", "Hi", "--connection", "bad", "--json")
        assert code == 1 and "refused" in json.loads(out)["error"]["message"]
        assert SECRET not in out + err and "wrong-key" not in out + err


HOSTED = {
    "mancer": ("/oai/v1", {"x-api-key": "{key}", "authorization": "Bearer {key}"}),
    "dreamgen": ("/api/openai/v1", {"authorization": "Bearer {key}"}),
}


@pytest.mark.parametrize("api", sorted(HOSTED))
def test_mancer_and_dreamgen_add_test_models_send_chat(run: Run, plan: FaultPlan, api: str) -> None:
    key = f"{api}-test-KEY-5555"
    prefix, auth = HOSTED[api]
    with serve(openai_text.create_app(plan, api, key=key)) as base:
        add(run, "h", api, base, "--model", "fake-13b", "--key", "-", input=key + "\n")
        code, out, err = run("connections", "test", "h", "--json")
        status = json.loads(out)
        assert code == 0 and status["ok"], out + err
        assert ("top_a" in status["details"]["samplers"]) == (api == "mancer")
        code, out, _ = run("connections", "models", "h", "--json")
        models = json.loads(out)
        assert code == 0 and [m["id"] for m in models] == ["fake-13b"]  # no image models
        if api == "mancer":
            assert models[0]["name"] == "Fake 13B" and models[0]["context_length"] == 8192
        code, out, err = run("send", "Hello there", "--connection", "h")
        assert code == 0 and out.startswith("Hello, traveler."), out + err
        turns = "Greetings from the road\nHow far is it?\n/quit\n"
        code, out, err = run("chat", "--connection", "h", "--new", input=turns)
        assert code == 0 and out.count("Hello, traveler.") == 2, out + err
        assert key not in out + err
    paths = {r["path"] for r in plan.requests if r["method"] != "STREAM-END"}
    assert paths == {f"{prefix}/models", f"{prefix}/completions"}
    sends = [r for r in plan.requests if r["path"] == f"{prefix}/completions"]
    assert len(sends) == 3
    for sent in sends:
        for header, value in auth.items():
            assert sent["headers"][header] == value.format(key=key)
        assert sent["json"]["model"] == "fake-13b" and sent["json"]["stream"] is True
    last = sends[-1]["json"]["prompt"]
    first = last.index("Greetings from the road")
    assert first < last.index("Hello, traveler.", first) < last.index("How far is it?")
    if api == "dreamgen":  # only DreamGen's own fields, and SillyTavern's extra stops
        assert set(sends[-1]["json"]) <= openai_text.DREAMGEN_KEYS
        assert {"### User", "## User"} <= set(sends[-1]["json"]["stop"])
