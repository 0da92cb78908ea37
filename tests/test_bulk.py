"""Pausing the garbage collector while many objects are made leaves it as it was."""

from __future__ import annotations

import gc

import pytest

from pytavern.bulk import collection_paused


def test_a_pause_restores_collection_nested_and_on_errors() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause found it off: it stays off
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collection_paused():
        raise RuntimeError("a failed read")
    assert gc.isenabled()


def test_a_pause_never_turns_on_what_was_off() -> None:
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
