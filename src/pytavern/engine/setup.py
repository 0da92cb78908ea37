"""First run: the default character and the built-in model connection."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pytavern.store import Store

DEFAULTS_KEY = "defaults_installed"
LOCAL_CONNECTION = "local"
LOCAL_SAMPLING = {
    "temperature": 0.7,
    "top_p": 0.9,
    "min_p": 0.05,
    "repetition_penalty": 1.15,
    "max_tokens": 160,
}
"""Samplers that keep the small built-in model from looping, and its replies short."""


def default_card() -> dict[str, Any]:
    """pytavern's own default character, a SillyTavern V2 card."""
    text = resources.files("pytavern.data").joinpath("default_character.json").read_text("utf-8")
    card: dict[str, Any] = json.loads(text)
    return card


def _flag(store: Store) -> str:
    return DEFAULTS_KEY if store.owner_id == 0 else f"{DEFAULTS_KEY}:{store.owner_id}"


def mark_defaults_installed(store: Store) -> None:
    """Record that ``store``'s owner has (or needs no) defaults, e.g. after adopting data."""
    store.set_meta(_flag(store), "1")


def install_defaults(store: Store) -> None:
    """Install the default character and the ``local`` connection, once per owner."""
    flag = _flag(store)
    if store.get_meta(flag):
        return
    store.add_character(default_card())
    if not store.list_connections():
        store.save_connection(
            name=LOCAL_CONNECTION, api="local", options={"sampling": LOCAL_SAMPLING}
        )
        store.set_default_connection(LOCAL_CONNECTION)
    store.set_meta(flag, "1")
