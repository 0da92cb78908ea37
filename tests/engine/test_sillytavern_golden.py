"""pytavern's text prompts equal the ones a real SillyTavern 1.12.6 sent.

tests/golden/sillytavern holds request bodies recorded from SillyTavern itself (run on
127.0.0.1, driven in headless Chromium, talking to a logging fake KoboldCpp; see
tests/golden/sillytavern/record/): its default card Seraphina, four turns each, with every
setting at its first-run default (instruct off, "Default" context) and with the ChatML,
Alpaca and Llama 3 Instruct templates picked, and through a custom OpenAI-compatible chat
completion source (``chat.json``). Here the same chat is replayed into pytavern against the
fakes, and the prompt (or messages), the stop strings and the main samplers of each turn
must equal the recorded ones. SillyTavern is not needed to run this.

Chat completion's first turn fires four entries of the card's lorebook; SillyTavern's World
Info budget kept three, because in chat completion it counts each text as a system message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytavern.engine import Engine
from pytavern.engine.services import Services
from pytavern.settings import Settings
from tests.fakes import kobold, openai_fake
from tests.fakes.server import FaultPlan, serve

GOLDEN = Path(__file__).parent.parent / "golden/sillytavern"
SCENARIOS = ["default", "chatml", "alpaca", "llama3"]
SAMPLERS = {  # SillyTavern's key in its KoboldCpp request: ours in the native one
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "top_a": "top_a",
    "min_p": "min_p",
    "typical": "typical",
    "tfs": "tfs",
    "rep_pen": "rep_pen",
    "rep_pen_range": "rep_pen_range",
    "rep_pen_slope": "rep_pen_slope",
    "presence_penalty": "presence_penalty",
    "mirostat": "mirostat",
    "mirostat_tau": "mirostat_tau",
    "mirostat_eta": "mirostat_eta",
    "dry_multiplier": "dry_multiplier",
    "dry_base": "dry_base",
    "dry_allowed_length": "dry_allowed_length",
    "dry_penalty_last_n": "dry_penalty_last_n",
    "xtc_threshold": "xtc_threshold",
    "xtc_probability": "xtc_probability",
    "smoothing_factor": "smoothing_factor",
    "sampler_order": "sampler_order",
    "max_tokens": "max_length",
}


def _recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text("utf-8"))
    return data


async def _replay(data_dir: Path, golden: dict[str, Any], turn: int) -> dict[str, Any]:
    """The body pytavern sends for ``turn`` of the recorded chat."""
    plan = FaultPlan()
    with serve(kobold.create_app(plan)) as url:
        engine = Engine.open(Settings(data_dir=data_dir))
        services = Services(engine)
        engine.store.save_connection(name="k", api="koboldcpp", url=url, options={})
        engine.store.set_default_connection("k")
        changes: dict[str, Any] = {"sampling": {"max_tokens": 256}, "context_size": 4096}
        if golden["instruct"]:
            changes |= {"instruct_template": golden["instruct"]}
            changes |= {"context_template": golden["instruct"]}
        services.preferences.change(changes)
        card = (GOLDEN / "Seraphina.json").read_bytes()
        character = services.characters.import_bytes(card, "Seraphina.json")
        chat = engine.start_chat(character.id)
        for sent, reply in zip(golden["user_messages"][:turn], golden["replies"], strict=False):
            engine.store.append_message(chat.id, role="user", name="User", text=sent)
            engine.store.append_message(chat.id, role="assistant", name="Seraphina", text=reply)
        text = golden["user_messages"][turn]
        _ = [e async for e in engine.generate(chat.id, "send", text)]
        await engine.aclose()
    return dict([r["json"] for r in plan.requests if "generate" in r["path"]][-1])


@pytest.mark.parametrize("turn", range(4))
@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_prompt_and_samplers_equal_sillytaverns(
    data_dir: Path, scenario: str, turn: int
) -> None:
    golden = _recorded(scenario)
    recorded = golden["requests"][turn]
    ours = await _replay(data_dir, golden, turn)
    assert ours["prompt"] == recorded["prompt"]
    assert ours["stop_sequence"] == recorded["stop"]
    theirs = {mine: recorded[st] for st, mine in SAMPLERS.items()}
    assert {mine: ours.get(mine) for mine in theirs} == theirs
    assert ours["dry_sequence_breakers"] == json.loads(recorded["dry_sequence_breakers"])


def test_the_recordings_are_four_turns_of_one_chat() -> None:
    for scenario in SCENARIOS:
        golden = _recorded(scenario)
        prompts = [r["prompt"] for r in golden["requests"]]
        assert len(prompts) == 4 and golden["sillytavern"] == "1.12.6"
        for turn, prompt in enumerate(prompts):
            assert golden["user_messages"][turn] in prompt
            assert all(reply in prompt for reply in golden["replies"][:turn])


CHAT_SAMPLERS = ("temperature", "top_p", "frequency_penalty", "presence_penalty", "max_tokens")


async def _replay_chat(
    data_dir: Path, golden: dict[str, Any], turn: int, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The chat completion body pytavern sends for ``turn`` of the recorded chat."""
    monkeypatch.setattr(openai_fake, "MODELS", (*openai_fake.MODELS, "gpt-3.5-turbo"))
    plan = FaultPlan()
    with serve(openai_fake.create_app(plan)) as url:
        engine = Engine.open(Settings(data_dir=data_dir))
        services = Services(engine)
        engine.store.save_connection(name="c", api="custom", url=f"{url}/v1", model="gpt-3.5-turbo")
        engine.secrets.set("c", openai_fake.DEFAULT_KEY)
        engine.store.set_default_connection("c")
        services.preferences.change({"sampling": {"max_tokens": 256}, "context_size": 4096})
        card = (GOLDEN / "Seraphina.json").read_bytes()
        character = services.characters.import_bytes(card, "Seraphina.json")
        chat = engine.start_chat(character.id)
        for sent, reply in zip(golden["user_messages"][:turn], golden["replies"], strict=False):
            engine.store.append_message(chat.id, role="user", name="User", text=sent)
            engine.store.append_message(chat.id, role="assistant", name="Seraphina", text=reply)
        text = golden["user_messages"][turn]
        _ = [e async for e in engine.generate(chat.id, "send", text)]
        await engine.aclose()
    sent_bodies = [r["body"] for r in plan.requests if r["path"].endswith("/chat/completions")]
    return dict(sent_bodies[-1])


@pytest.mark.parametrize("turn", range(4))
async def test_chat_completion_messages_equal_sillytaverns(
    data_dir: Path, turn: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    golden = _recorded("chat")
    recorded = golden["requests"][turn]
    ours = await _replay_chat(data_dir, golden, turn, monkeypatch)
    assert ours["messages"] == recorded["messages"]
    assert {k: ours[k] for k in CHAT_SAMPLERS} == {k: recorded[k] for k in CHAT_SAMPLERS}
