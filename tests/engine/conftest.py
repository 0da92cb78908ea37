"""What the engine tests share: an engine whose default connection is the scripted backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytavern.engine import Engine
from pytavern.settings import Settings
from tests.scripted import ScriptBook


@pytest.fixture
async def engine(data_dir: Path, scripted: ScriptBook) -> Engine:
    """An engine on a new data folder, answering through ``scripted`` by default."""
    engine = Engine.open(Settings(data_dir=data_dir))
    engine.store.save_connection(name="s", api="scripted")
    engine.store.set_default_connection("s")
    return engine
