"""Moonshot against its fake: check, models, streamed send, faults, temperature range."""

from __future__ import annotations

import pytest

from pytavern.providers import moonshot
from tests.providers.chat_helpers import request
from tests.providers.flavours import common

API = "moonshot"


def test_declared() -> None:
    common.declared(API, "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


@pytest.mark.parametrize(("given", "sent"), [(1.6, 1.0), (0.6, 0.6)])
async def test_streamed_send_keeps_temperature_in_range(given: float, sent: float) -> None:
    _events, got = await common.streamed_send(API, request("hello there", temperature=given))
    assert got["body"]["temperature"] == sent


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, moonshot.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)
