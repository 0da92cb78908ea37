"""Out of the box, a text backend gets what SillyTavern 1.12.6 sends: instruct off with the
"Default" context template, the "Neutral - Chat" system prompt (the card's own preferred,
``{{original}}`` in it standing for ours) and SillyTavern's whole default sampler preset.
Driven against the fake KoboldCpp on 127.0.0.1, which records the request bodies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytavern.engine import Engine
from pytavern.engine.preferences import save_preferences
from pytavern.formats.cards import new_card
from pytavern.settings import Settings
from tests.fakes import kobold
from tests.fakes.server import FaultPlan, serve

NEUTRAL = "Write Sera's next reply in a fictional chat between Sera and User."


@dataclass
class Rig:
    engine: Engine
    plan: FaultPlan
    chat_id: int

    async def send(self, text: str) -> dict[str, Any]:
        """Send ``text``; the body of the generate request the backend received."""
        _ = [e async for e in self.engine.generate(self.chat_id, "send", text)]
        generating = [r for r in self.plan.requests if "generate" in r["path"]]
        return dict(generating[-1]["json"])


@contextmanager
def rig(data_dir: Path, **card_fields: str) -> Iterator[Rig]:
    plan = FaultPlan()
    with serve(kobold.create_app(plan)) as url:
        engine = Engine.open(Settings(data_dir=data_dir))
        engine.store.save_connection(name="k", api="koboldcpp", url=url, options={})
        engine.store.set_default_connection("k")
        card = new_card(
            "Sera",
            description="{{char}} guards the glade.",
            mes_example="<START>\n{{user}}: Hi\n{{char}}: Yo",
            **card_fields,
        )
        character = engine.store.add_character(card.raw)
        chat = engine.start_chat(character.id)
        yield Rig(engine, plan, chat.id)


async def test_defaults_are_sillytaverns_instruct_off_prompt_and_samplers(data_dir: Path) -> None:
    with rig(data_dir) as r:
        body = await r.send("Hello there.")
        prompt = body["prompt"]
        assert prompt.startswith(
            f"{NEUTRAL}\nSera guards the glade.\n***\nUser: Hi\nSera: Yo\n***\n"
        )
        assert prompt.endswith("User: Hello there.\nSera:")
        assert "<|im_start|>" not in prompt
        assert "\nUser:" in body["stop_sequence"]
        expected = {
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 0,
            "top_a": 0,
            "tfs": 1,
            "typical": 1,
            "min_p": 0,
            "rep_pen": 1.1,
            "rep_pen_range": 0,
            "rep_pen_slope": 1,
            "mirostat": 0,
            "dry_multiplier": 0,
            "xtc_probability": 0,
            "sampler_order": [6, 0, 1, 3, 4, 2, 5],
        }
        assert {k: body.get(k) for k in expected} == expected
        for turn in range(3):  # four turns in all: the history keeps SillyTavern's shape
            body = await r.send(f"Question {turn}?")
        assert body["prompt"].count("\nSera:") >= 4 and body["prompt"].endswith(
            "Question 2?\nSera:"
        )
        await r.engine.aclose()


async def test_only_the_set_samplers_when_defaults_are_off(data_dir: Path) -> None:
    with rig(data_dir) as r:
        save_preferences(
            r.engine.store, {"send_sampler_defaults": False, "sampling": {"top_k": 20}}
        )
        body = await r.send("Hi")
        assert body["top_k"] == 20
        assert "temperature" not in body and "rep_pen" not in body
        save_preferences(r.engine.store, {"send_sampler_defaults": True})
        body = await r.send("Hi again")
        assert body["top_k"] == 20 and body["temperature"] == 0.5  # set values win
        await r.engine.aclose()


async def test_card_system_prompt_is_preferred_with_original(data_dir: Path) -> None:
    with rig(data_dir, system_prompt="Stay in the glade. {{original}}") as r:
        body = await r.send("Hi")
        assert body["prompt"].startswith(f"Stay in the glade. {NEUTRAL}\n")
        save_preferences(r.engine.store, {"prefer_character_prompt": False})
        assert (await r.send("Hi"))["prompt"].startswith(f"{NEUTRAL}\n")
        save_preferences(r.engine.store, {"system_prompt_enabled": False})
        assert (await r.send("Hi"))["prompt"].startswith("Sera guards the glade.\n")
        save_preferences(
            r.engine.store, {"system_prompt_enabled": True, "system_prompt_preset": "Actor"}
        )
        assert "Sera" in (await r.send("Hi"))["prompt"].split("\n")[0]
        await r.engine.aclose()


async def test_picking_an_instruct_template_turns_instruct_on(data_dir: Path) -> None:
    with rig(data_dir) as r:
        save_preferences(
            r.engine.store, {"instruct_template": "ChatML", "context_template": "ChatML"}
        )
        prompt = (await r.send("Hi"))["prompt"]
        assert prompt.startswith(f"<|im_start|>system\n{NEUTRAL}\nSera guards the glade.")
        assert prompt.endswith("<|im_start|>assistant\nSera:")
        save_preferences(r.engine.store, {"instruct_enabled": False})
        prompt = (await r.send("Hi"))["prompt"]  # the story string is ChatML's, turns are not
        assert "<|im_start|>user" not in prompt and prompt.endswith("User: Hi\nSera:")
        await r.engine.aclose()


async def test_instruct_auto_selected_by_model_name(data_dir: Path) -> None:
    with rig(data_dir) as r:
        template = {
            "name": "Glade",
            "input_sequence": "[IN]",
            "output_sequence": "[OUT]",
            "activation_regex": "/glade-\\d+b/i",
        }
        r.engine.store.save_preset("instruct", "Glade", template)
        r.engine.store.save_connection(name="k", api="koboldcpp", url=_url(r), model="Glade-7B")
        save_preferences(r.engine.store, {"instruct_enabled": True})
        assert "[IN]" in (await r.send("Hi"))["prompt"]
        save_preferences(r.engine.store, {"instruct_auto_select": False})
        assert "<|im_start|>" in (await r.send("Hi"))["prompt"]  # no template picked: ChatML
        await r.engine.aclose()


def _url(r: Rig) -> str:
    record = r.engine.store.get_connection("k")
    assert record.url
    return record.url


@pytest.mark.parametrize(("api", "family"), [("local", "local"), ("novelai", "text")])
def test_no_defaults_for_the_builtin_model_and_novelai(api: str, family: str) -> None:
    from pytavern.engine.sampler_defaults import family_defaults
    from pytavern.providers import get_spec

    assert get_spec(api).family == family
    assert family_defaults(api, family).set_fields() == {}


async def test_a_missing_system_prompt_preset_is_a_clear_error(data_dir: Path) -> None:
    from pytavern.errors import ConfigError

    with rig(data_dir) as r:
        save_preferences(r.engine.store, {"system_prompt_preset": "Nope"})
        with pytest.raises(ConfigError, match="no system-prompt preset named 'Nope'") as info:
            _ = [e async for e in r.engine.generate(r.chat_id, "send", "Hi")]
        assert info.value.hint and "Neutral - Chat" in info.value.hint
        assert not [q for q in r.plan.requests if "generate" in q["path"]]
        await r.engine.aclose()
