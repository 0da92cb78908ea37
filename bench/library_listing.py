"""Cost of listing a large character library, as a ratio to reading the cards raw.

SillyTavern's users report the library slowing past 1,000 characters. This makes a library
of N characters (a 20 KB card and a 400 KB avatar each, as PNG cards carry), then times, in
alternating rounds, what the gallery asks for (``GET /api/characters``: every character's
summary, through the service) against the floor: one ``SELECT id, name, card`` on the
SQLite file with ``sqlite3`` and ``json.loads`` of each card. Prints the medians and the
ratio listing/floor; the target is <= 2.0 (listing costs at most twice reading the cards).

    PYTHONPATH=src python bench/library_listing.py [characters] [rounds]
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pytavern.engine import Engine
from pytavern.engine.services import Services
from pytavern.engine.services.characters import character_summary
from pytavern.settings import Settings

TARGET_RATIO = 2.0
DESCRIPTION = "She keeps {{char}}'s lantern lit and tells {{user}} of the sea. " * 300


def make_library(engine: Engine, count: int) -> None:
    """``count`` characters, each with a ~20 KB card and a 400 KB avatar."""
    avatar = os.urandom(400_000)
    for index in range(count):
        data = {"name": f"Character {index}", "description": DESCRIPTION, "tags": ["bench"]}
        card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}
        engine.store.add_character(card, avatar)


def listing_seconds(services: Services) -> float:
    """What ``GET /api/characters`` computes."""
    started = time.perf_counter()
    summaries = [character_summary(record) for record in services.characters.all()]
    assert summaries
    return time.perf_counter() - started


def floor_seconds(database: Path) -> float:
    """Reading every card raw: one query and ``json.loads`` each."""
    started = time.perf_counter()
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT id, name, card FROM characters").fetchall()
    cards = [json.loads(card) for _id, _name, card in rows]
    assert cards
    return time.perf_counter() - started


def main() -> None:
    """Make the library, time both in alternating rounds, print the ratio."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    with tempfile.TemporaryDirectory() as folder:
        engine = Engine.open(Settings(data_dir=Path(folder)))
        make_library(engine, count)
        services = Services(engine)
        database = next(Path(folder).rglob("*.db"))
        listed, floor = [], []
        for _ in range(rounds):
            listed.append(listing_seconds(services))
            floor.append(floor_seconds(database))
        asyncio.run(engine.aclose())
    listing, raw = statistics.median(listed), statistics.median(floor)
    ratio = listing / raw
    print(f"{count} characters: listing {listing * 1000:.0f} ms, raw cards {raw * 1000:.0f} ms")
    print(f"ratio {ratio:.2f} (target <= {TARGET_RATIO})")
    sys.exit(0 if ratio <= TARGET_RATIO else 1)


if __name__ == "__main__":
    main()
