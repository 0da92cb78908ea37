"""The engine indexes SQLite's pending search texts every ``SEARCH_INDEX_EVERY`` turns."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

import pytavern.engine as engine_module
from pytavern.engine import Engine
from pytavern.settings import Settings
from tests.scripted import Script, ScriptBook


def pending(engine: Engine) -> int:
    with engine.store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM swipes_fts_pending")).scalar_one())


async def test_every_few_turns_the_pending_texts_are_indexed(
    data_dir: Path, scripted: ScriptBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "SEARCH_INDEX_EVERY", 2)
    engine = Engine.open(Settings(data_dir=data_dir))
    try:
        engine.store.save_connection(name="s", api="scripted")
        engine.store.set_default_connection("s")
        chat_id = engine.start_chat(engine.store.list_characters()[0].id).id
        counts = []
        for number in (1, 2, 3):
            scripted.scripts.append(Script([f"reply {number}"]))
            async for _event in engine.generate(chat_id, "send", f"message {number}"):
                pass
            counts.append(pending(engine))
        assert counts[0] >= 2 and counts[1] == 0 and counts[2] == 2
    finally:
        await engine.aclose()
