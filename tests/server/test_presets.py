"""Presets over the API: bundled templates listed beside stored ones, and chosen for prompts."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from pytavern.formats.presets import bundled_names
from tests.fakes import llamacpp
from tests.fakes.server import FaultPlan, serve
from tests.server.conftest import generate, start_chat


def named(listing: list[dict[str, Any]], kind: str, name: str) -> list[dict[str, Any]]:
    return [p for p in listing if p["kind"] == kind and p["name"] == name]


async def test_bundled_templates_are_listed_read_only_after_the_stored_ones(
    client: httpx.AsyncClient,
) -> None:
    await client.put("/api/presets/instruct/Mine", json={"data": {"input_sequence": "IN"}})
    instruct = (await client.get("/api/presets", params={"kind": "instruct"})).json()
    assert [p["name"] for p in instruct] == ["Mine", *bundled_names("instruct")]
    assert instruct[0] | {"data": None} == {
        "kind": "instruct",
        "name": "Mine",
        "data": None,
        "bundled": False,
        "read_only": False,
        "shadows_bundled": False,
    }
    [alpaca] = named(instruct, "instruct", "Alpaca")
    assert alpaca["bundled"] is True and alpaca["read_only"] is True
    assert alpaca["data"]["input_sequence"] == "### Instruction:"
    everything = (await client.get("/api/presets")).json()
    assert {p["kind"] for p in everything if p["bundled"]} == {"instruct", "context", "sysprompt"}
    [actor] = named(everything, "sysprompt", "Actor")
    assert "You are an expert actor" in actor["data"]["content"]
    assert named(everything, "context", "Default")[0]["data"]["story_string"]
    assert (await client.get("/api/presets", params={"kind": "sampler"})).json() == []
    viewed = (await client.get("/api/presets/context/Llama 3 Instruct")).json()
    assert viewed["bundled"] is True and "story_string" in viewed["data"]
    missing = await client.get("/api/presets/instruct/Nothing like it")
    assert missing.status_code == 404


async def test_a_stored_preset_shadows_the_bundled_one_of_its_name(
    client: httpx.AsyncClient,
) -> None:
    saved = await client.put(
        "/api/presets/instruct/Alpaca", json={"data": {"input_sequence": "Q:"}}
    )
    assert saved.json()["shadows_bundled"] is True and saved.json()["bundled"] is False
    listing = (await client.get("/api/presets", params={"kind": "instruct"})).json()
    [alpaca] = named(listing, "instruct", "Alpaca")
    assert alpaca["shadows_bundled"] is True and alpaca["data"] == {"input_sequence": "Q:"}
    assert (await client.get("/api/presets/instruct/Alpaca")).json()["data"]["input_sequence"] == (
        "Q:"
    )
    assert (await client.delete("/api/presets/instruct/Alpaca")).status_code == 204
    back = (await client.get("/api/presets/instruct/Alpaca")).json()
    assert back["bundled"] is True and back["data"]["input_sequence"] == "### Instruction:"
    refused = await client.delete("/api/presets/instruct/Alpaca")
    assert refused.status_code == 403
    assert "bundled" in refused.json()["error"]["message"]
    listing = (await client.get("/api/presets", params={"kind": "instruct"})).json()
    assert len(named(listing, "instruct", "Alpaca")) == 1


async def test_a_chosen_bundled_template_builds_the_text_prompt(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    plan = FaultPlan()
    with serve(llamacpp.create_app(plan)) as base:
        store = app.state.engine.store
        store.save_connection(name="llama", api="llamacpp", url=base)
        store.set_default_connection("llama")
        chat = await start_chat(client)

        async def prompt_for(text: str) -> str:
            await generate(client, chat["id"], mode="send", text=text)
            [body] = [r["json"] for r in plan.requests if r["path"] == "/completion"][-1:]
            prompt: str = body["prompt"]
            return prompt

        automatic = await prompt_for("Hello?")  # SillyTavern's default: instruct off
        assert automatic.endswith("User: Hello?\nWren:") and "<|im_start|>" not in automatic
        choose = {"instruct_template": "Alpaca", "context_template": "Alpaca"}
        assert (await client.patch("/api/settings", json=choose)).status_code == 200
        chosen = await prompt_for("Is the door open?")
        assert "### Instruction:\nIs the door open?" in chosen and "<|im_start|>" not in chosen
        assert chosen.endswith("### Response:\n") and "***" in automatic and "***" not in chosen
        await client.put(
            "/api/presets/instruct/Alpaca",
            json={"data": {"input_sequence": "Q: ", "output_sequence": "A: "}},
        )
        shadowed = await prompt_for("And the window?")
        assert "Q: \nAnd the window?\nA:" in shadowed and "### Instruction:" not in shadowed
        await client.patch("/api/settings", json={"instruct_template": None})
        assert (await prompt_for("Instruct off again?")).endswith("Instruct off again?\nWren:")
        on = {"instruct_enabled": True, "context_template": "Default"}
        assert (await client.patch("/api/settings", json=on)).json()["instruct_enabled"] is True
        assert "<|im_start|>user" in await prompt_for("Instruct on, no template: ChatML?")
