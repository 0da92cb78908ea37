"""``connections types`` and option validation at ``connections add``; a hosted text
backend without ``--model`` takes the first model it lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.invoke import Run, invoker
from tests.fakes import openai_text
from tests.fakes.server import FaultPlan, serve


@pytest.fixture
def run(data_dir: Path) -> Run:
    return invoker(data_dir)


def test_types_json_lists_every_api_type_with_group_and_options(run: Run) -> None:
    code, out, err = run("connections", "types", "--json")
    assert code == 0, err
    types = {item["name"]: item for item in json.loads(out)}
    assert types["kobold"]["group"] == types["koboldcpp"]["group"] == "kobold"
    assert types["horde"]["group"] == "horde" and types["novelai"]["group"] == "novelai"
    assert types["openai"]["key_env"] == "OPENAI_API_KEY"
    assert types["koboldcpp"]["default_url"] == "http://127.0.0.1:5001"
    options = {o["name"]: o for o in types["horde"]["options"]}
    assert options["max_wait"] == {
        "name": "max_wait",
        "type": "float",
        "default": 1200.0,
        "help": options["max_wait"]["help"],
        "common": False,
    }
    assert options["max_wait"]["help"] and options["timeout_connect"]["common"]


def test_types_text_names_each_type_and_its_own_options(run: Run) -> None:
    code, out, _ = run("connections", "types")
    assert code == 0
    assert "openrouter" in out and "options: provider_order" in out
    assert "$ANTHROPIC_API_KEY" in out


def test_unknown_option_exits_nonzero_naming_the_valid_ones(run: Run) -> None:
    code, out, err = run(
        "connections", "add", "x", "--api", "openai", "--option", "no_such_option=1"
    )
    assert code != 0
    assert "no_such_option" in err and "timeout_connect" in err, out + err
    code, out, _ = run("connections", "list", "--json")
    assert code == 0 and "x" not in [row["name"] for row in json.loads(out)]


def test_wrong_option_type_is_refused_without_echoing_the_value(run: Run) -> None:
    code, _out, err = run(
        "connections", "add", "x", "--api", "horde", "--option", "poll_interval=soon-ish"
    )
    assert code != 0 and "poll_interval" in err and "soon-ish" not in err


def test_valid_options_are_stored_typed(run: Run) -> None:
    code, _out, err = run(
        "connections", "add", "x", "--api", "horde", "--option", "models=[\"a\"]",
        "--option", "max_wait=30", "--json",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = run("connections", "list", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["x"]["options"] == {"models": ["a"], "max_wait": 30.0}


@pytest.mark.parametrize("api", ["mancer", "dreamgen"])
def test_hosted_text_backend_without_model_sends_with_the_first_listed(run: Run, api: str) -> None:
    plan = FaultPlan()
    key = f"{api}-test-KEY-4321"
    with serve(openai_text.create_app(plan, api, key=key)) as base:
        code, _out, err = run(
            "connections", "add", "h", "--api", api, "--url", base, "--key", "-",
            input=key + "\n",
        )  # fmt: skip
        assert code == 0, err
        code, out, err = run("connections", "test", "h")
        assert code == 0, out + err
        code, out, err = run("send", "Hello there", "--connection", "h")
        assert code == 0 and out.startswith("Hello, traveler."), out + err
    sends = [r for r in plan.requests if r["path"].endswith("/completions")]
    assert sends and all(r["json"]["model"] == openai_text.MODEL for r in sends)


def test_test_explains_how_to_set_a_model_when_none_is_listed(run: Run) -> None:
    key = "mancer-test-KEY-1111"
    with serve(openai_text.create_app(FaultPlan(), "mancer", key=key)) as base:
        run("connections", "add", "h", "--api", "mancer", "--url", base)  # no key: 401
        code, out, err = run("connections", "test", "h")
    assert code != 0
    assert "no model set" in out and "--model" in out + err, out + err
