"""REST: API types come from the specs; connection options are validated when set, and a
stored connection with bad options still loads (with a warning)."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.applications import Starlette

from pytavern.engine.connections import connection_config


async def test_api_types_carry_declared_groups_and_options(client: httpx.AsyncClient) -> None:
    types = {t["name"]: t for t in (await client.get("/api/api-types")).json()}
    assert {types[name]["group"] for name in ("kobold", "koboldcpp")} == {"kobold"}
    assert types["horde"]["group_label"] == "AI Horde" and types["novelai"]["group"] == "novelai"
    options = {o["name"]: o for o in types["openrouter"]["options"]}
    assert options["provider_order"]["type"] == "list[string]" and options["middle_out"]["help"]


async def test_unknown_option_is_refused_naming_the_valid_ones(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/connections",
        json={"name": "o", "api": "openai", "options": {"no_such_option": 1}},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert "no_such_option" in error["message"] and "timeout_connect" in error["hint"]
    listed = (await client.get("/api/connections")).json()
    assert "o" not in [row["name"] for row in listed]


async def test_update_with_a_wrong_type_changes_nothing(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/connections",
        json={"name": "h", "api": "horde", "options": {"max_wait": 60}},
    )
    assert created.status_code == 201 and created.json()["options"] == {"max_wait": 60.0}
    refused = await client.put(
        "/api/connections/h", json={"api": "horde", "options": {"max_wait": "long"}}
    )
    assert refused.status_code == 400 and "max_wait" in refused.json()["error"]["message"]
    listed = {row["name"]: row for row in (await client.get("/api/connections")).json()}
    assert listed["h"]["options"] == {"max_wait": 60.0}


def test_stored_bad_options_load_with_a_warning_without_values(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    store, secrets = app.state.engine.store, app.state.engine.secrets
    record = store.save_connection(
        name="old",
        api="horde",
        url=None,
        model=None,
        options={"max_wait": 30, "typo_option": "sk-SECRET-1234", "poll_interval": "x-SECRET"},
    )
    with caplog.at_level(logging.WARNING):
        config = connection_config(record, secrets)
    assert dict(config.options) == {"max_wait": 30}
    assert "typo_option" in caplog.text and "poll_interval" in caplog.text
    assert "SECRET" not in caplog.text
