"""Generation preferences: defaults, validation, per-connection sampling overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytavern.engine.preferences import load_preferences, sampling_for, save_preferences
from pytavern.errors import ConfigError
from pytavern.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open_sqlite(tmp_path / "p.db")


def test_defaults_and_partial_updates(store: Store) -> None:
    assert load_preferences(store).sampling.max_tokens == 300
    save_preferences(store, {"sampling": {"temperature": 0.7}, "author_note": {"text": "Rain."}})
    save_preferences(store, {"context_size": 8192})
    prefs = load_preferences(store)
    assert prefs.sampling.temperature == 0.7 and prefs.sampling.max_tokens == 300
    assert prefs.context_size == 8192 and prefs.author_note.text == "Rain."


def test_invalid_values_are_refused_with_the_field(store: Store) -> None:
    with pytest.raises(ConfigError, match=r"sampling\.temperature"):
        save_preferences(store, {"sampling": {"temperature": "hot"}})
    with pytest.raises(ConfigError, match="context_size"):
        save_preferences(store, {"context_size": 10})
    assert load_preferences(store).context_size == 4096


def test_connection_sampling_overrides(store: Store) -> None:
    record = store.save_connection(name="c", api="local", options={"sampling": {"top_k": 5}})
    merged = sampling_for(load_preferences(store), record)
    assert (merged.top_k, merged.max_tokens) == (5, 300)
    bad = store.save_connection(name="d", api="local", options={"sampling": {"nope": 1}})
    with pytest.raises(ConfigError, match="invalid sampling"):
        sampling_for(load_preferences(store), bad)
