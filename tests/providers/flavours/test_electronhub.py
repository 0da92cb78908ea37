"""Electron Hub against its fake: check, models, streamed send, faults, key advice."""

from __future__ import annotations

from pytavern.providers import electronhub
from tests.providers.flavours import common

API = "electronhub"


def test_declared() -> None:
    common.declared(API, "https://api.electronhub.ai/v1", "ELECTRONHUB_API_KEY")


async def test_check_lists_models() -> None:
    await common.check_lists_models(API)


async def test_streamed_send() -> None:
    _events, sent = await common.streamed_send(API)
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "gpt-4o-mini"
    assert sent["headers"]["authorization"] == f"Bearer {common.FAKES[API].key}"


async def test_refused_key_names_key_page() -> None:
    await common.refused_key_names_key_page(API, electronhub.KEY_PAGE)


async def test_faults() -> None:
    await common.faults_are_retried_then_reported(API)
