"""Search across chats: one word found in a 50,000-message chat.

Builds a data folder with one chat of MESSAGES messages (words drawn from a fixed
vocabulary, one message holding a rare word), then times ``services.search`` finding that
word, and a plain ``LIKE '%word%'`` scan of the same swipes for comparison. Prints the median
of each, the ratio scan/search, and whether the search stays under the 50 ms target.

    PYTHONPATH=src python bench/search.py [messages] [rounds]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from pytavern.cli import cli
from pytavern.engine.services import Services
from pytavern.settings import Settings
from pytavern.store import NewMessage

TARGET_MS = 50.0
RARE = "quetzalcoatl"
VOCABULARY = (
    "the",
    "a",
    "lantern",
    "moon",
    "river",
    "stone",
    "whisper",
    "forest",
    "shadow",
    "light",
    "road",
    "tavern",
    "ale",
    "song",
    "sword",
    "dragon",
    "rain",
    "window",
    "candle",
    "story",
    "old",
    "new",
    "quiet",
    "loud",
    "walk",
    "run",
    "smile",
    "frown",
    "door",
)


def build(services: Services, messages: int) -> None:
    """One chat of ``messages`` messages, the rare word in one near the middle."""
    generator = random.Random(7)
    character = services.characters.all()[0]
    planted = messages // 2
    rows = []
    for index in range(messages):
        words = generator.choices(VOCABULARY, k=generator.randint(8, 40))
        if index == planted:
            words.insert(len(words) // 2, RARE)
        role = "user" if index % 2 == 0 else "assistant"
        rows.append(NewMessage(role=role, name=character.name, swipes=[" ".join(words)]))
    store = services.engine.store
    store.import_chat(character.id, title="bench", metadata={}, messages=rows)


def median_ms(function: Callable[[], object], rounds: int) -> float:
    """The median wall time of ``function`` in milliseconds (one warm-up call first)."""
    function()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run_command(folder: Path) -> None:
    """``pytavern search RARE --json`` in this process (no interpreter start-up)."""
    result = CliRunner().invoke(cli, ["--data-dir", str(folder), "search", RARE, "--json"])
    assert result.exit_code == 0 and RARE in result.stdout, result.output


def main(messages: int, rounds: int) -> None:
    """Build, time, print."""
    with tempfile.TemporaryDirectory() as folder:
        services = Services.open(Settings(data_dir=Path(folder)))
        start = time.perf_counter()
        build(services, messages)
        print(f"built {messages} messages in {time.perf_counter() - start:.1f} s")
        hits = services.search.public(RARE)
        assert len(hits) == 1 and RARE in hits[0]["snippet"], hits
        engine = services.engine.store.engine

        def scan() -> object:
            with engine.connect() as connection:
                return connection.execute(
                    text("SELECT id FROM swipes WHERE text LIKE :p"), {"p": f"%{RARE}%"}
                ).all()

        search_ms = median_ms(lambda: services.search.public(RARE), rounds)
        common_ms = median_ms(lambda: services.search.public("lantern", limit=20), rounds)
        scan_ms = median_ms(scan, rounds)
        services.engine.store.close()
        command_ms = median_ms(lambda: run_command(Path(folder)), max(3, rounds // 5))
        verdict = "under" if search_ms < TARGET_MS else "OVER"
        print(f"search (rare word, 1 hit):       {search_ms:8.2f} ms  ({verdict} {TARGET_MS} ms)")
        print(f"search (common word, 20 newest): {common_ms:8.2f} ms")
        print(f"LIKE scan of every swipe:        {scan_ms:8.2f} ms")
        print(f"ratio scan/search:               {scan_ms / search_ms:8.1f}x")
        print(f"`pytavern search` in-process:    {command_ms:8.2f} ms (opens the data folder)")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 50_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 30,
    )
