"""REST: several keys per connection, fallback chains and the usage ledger, against the
OpenAI and Anthropic fakes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.fakes import anthropic_fake, openai_fake
from tests.fakes.flavours_chat import FAKES
from tests.fakes.server import FaultPlan, serve
from tests.fakes.vendors.perplexity import CITATIONS
from tests.providers.chat_helpers import fake
from tests.server.conftest import generate, start_chat

WRONG = "sk-wrong-000000000000000zyxw"


async def add_connection(client: httpx.AsyncClient, **connection: Any) -> None:
    """Add a connection over REST (``name``, ``api``, ``url``, ``model``, ``keys``...)."""
    made = await client.post("/api/connections", json=connection)
    assert made.status_code == 201, made.text


async def test_keys_rotate_and_a_failing_connection_falls_back(
    client: httpx.AsyncClient,
) -> None:
    with (
        fake(openai_fake.create_app) as (oai_url, oai),
        fake(anthropic_fake.create_app) as (
            claude_url,
            _claude,
        ),
    ):
        await add_connection(
            client,
            name="claude-up",
            api="claude",
            url=claude_url,
            model="claude-haiku-4-5",
            keys=[WRONG, anthropic_fake.DEFAULT_KEY],
        )
        made = await client.post(
            "/api/connections",
            json={
                "name": "up",
                "api": "openai",
                "url": oai_url + "/v1",
                "model": "gpt-4o-mini",
                "keys": [openai_fake.DEFAULT_KEY],
                "fallback": ["claude-up"],
                "options": {"max_retries": 0},
            },
        )
        assert made.status_code == 201, made.text
        assert made.json()["fallback"] == ["claude-up"]
        oai.arm("503")
        chat = await start_chat(client)
        events = await generate(client, chat["id"], text="hello rest", connection="up")
        finished = [data for kind, data in events if kind == "finished"][-1]
        assert finished["reason"] == "stop" and finished["model"] == "claude-haiku-4-5"
        messages = (await client.get(f"/api/chats/{chat['id']}")).json()["messages"]
        assert messages[-1]["swipe"]["connection"] == "claude-up"
        keys = (await client.get("/api/connections/claude-up/keys")).json()
        assert [k["state"] for k in keys] == ["refused", "ok"]
        assert "refused at" in keys[0]["summary"] and WRONG not in str(keys)
        listed = (await client.get("/api/connections")).text
        assert WRONG not in listed and anthropic_fake.DEFAULT_KEY not in listed
    usage = (await client.get("/api/usage", params={"by": "connection"})).json()
    outcomes = [(r["connection"], r["outcome"], r["error"]) for r in usage["requests"]]
    assert outcomes == [
        ("up", "error", "UpstreamServerError"),
        ("claude-up", "error", "AuthError"),
        ("claude-up", "ok", None),
    ]
    assert usage["total"]["requests"] == 3 and usage["total"]["output_tokens"] > 0
    bad = await client.get("/api/usage", params={"by": "colour"})
    assert bad.status_code == 400 and "day" in bad.json()["error"]["hint"]


async def test_fallback_to_a_missing_connection_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/connections", json={"name": "x", "api": "openai", "fallback": ["nowhere"]}
    )
    assert answer.status_code == 400 and "nowhere" in answer.json()["error"]["message"]


async def test_an_answer_of_an_unknown_shape_ends_the_turn_with_a_clear_error(
    client: httpx.AsyncClient,
) -> None:
    with fake(anthropic_fake.create_app) as (claude_url, claude):
        await add_connection(
            client,
            name="claude-odd",
            api="claude",
            url=claude_url,
            model="claude-haiku-4-5",
            keys=[anthropic_fake.DEFAULT_KEY],
        )
        claude.arm("wrong_shape")  # a content_block_delta whose delta is a string
        chat = await start_chat(client)
        events = await generate(client, chat["id"], text="one two three", connection="claude-odd")
    error = next(data for kind, data in events if kind == "error")
    assert error["kind"] == "StreamProtocolError", error
    assert error["message"].startswith("claude-odd: pytavern could not read the answer (")
    assert "AttributeError" in error["message"] and "URL and API type" in error["hint"]
    text = "".join(data["text"] for kind, data in events if kind == "text")
    assert text  # the text before the odd event arrived and is kept
    reply = (await client.get(f"/api/chats/{chat['id']}")).json()["messages"][-1]
    assert reply["text"] == text and reply["swipe"]["status"] != "complete"
    assert reply["swipe"]["error"] and "could not read the answer" in reply["swipe"]["error"]
    usage = (await client.get("/api/usage", params={"by": "connection"})).json()
    outcomes = [(r["connection"], r["outcome"], r["error"]) for r in usage["requests"]]
    assert outcomes == [("claude-odd", "error", "StreamProtocolError")]


async def test_a_rate_limited_key_rests_as_long_as_retry_after_says(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    with fake(openai_fake.create_app) as (oai_url, oai):
        await add_connection(
            client,
            name="busy",
            api="openai",
            url=oai_url + "/v1",
            model="gpt-4o-mini",
            keys=[openai_fake.DEFAULT_KEY, "sk-other-0000000000000000tuvw"],
            options={"max_retries": 0},
        )
        oai.arm("429")  # with Retry-After: 1
        chat = await start_chat(client)
        await generate(client, chat["id"], text="hello", connection="busy")
    parked = app.state.engine.secrets.parked("busy")
    resting = [entry for entry in parked.values() if entry["state"] == "resting"]
    assert len(resting) == 1, parked
    assert resting[0]["until"] - resting[0]["since"] == pytest.approx(1.0)


async def test_the_finished_frame_carries_what_the_backend_told_besides_the_text(
    client: httpx.AsyncClient,
) -> None:
    pplx = FAKES["perplexity"]
    with serve(pplx.app(FaultPlan())) as root:
        await add_connection(
            client,
            name="pplx",
            api="perplexity",
            url=pplx.url(root),
            model=pplx.model,
            keys=[pplx.key],
            options=dict(pplx.options),
        )
        chat = await start_chat(client)
        events = await generate(client, chat["id"], text="Where is it?", connection="pplx")
    finished = [data for kind, data in events if kind == "finished"][-1]
    assert finished["reason"] == "stop" and finished["details"]["citations"] == CITATIONS
    plain = await generate(client, chat["id"], text="And you?")  # the scripted default
    assert "details" not in [data for kind, data in plain if kind == "finished"][-1]
