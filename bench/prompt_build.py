"""Time to build an 8k-token prompt from long chats and big lorebooks.

Run: PYTHONPATH=src python bench/prompt_build.py
Prints median build times for chats of 1,000 and 100,000 messages with lorebooks of 10 and
5,000 entries, in chat and text mode, and the ratio 100k/1k (target <= 1.25).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pytavern.formats.cards import new_card
from pytavern.formats.presets import load_bundled
from pytavern.formats.worldinfo import lorebook_from_dict
from pytavern.prompt.assemble import (
    HistoryMessage,
    PromptInput,
    PromptSettings,
    TextSettings,
    assemble,
)
from pytavern.prompt.tokens import OpenAITokenizer
from pytavern.prompt.worldinfo import WorldInfoSources

WORDS = [
    "river",
    "forest",
    "castle",
    "dragon",
    "sword",
    "lantern",
    "harbor",
    "winter",
    "market",
    "tower",
]


class LazyHistory(Sequence[HistoryMessage]):
    """A chat of ``n`` messages made on demand; counts how many were read."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.reads = 0

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> HistoryMessage:  # type: ignore[override]
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.reads += 1
        user = i % 2 == 1
        place, topic = WORDS[i % 10], WORDS[(i * 7) % 10]
        text = f"Message {i}: we walked past the {place} and talked about {topic} for a while."
        return HistoryMessage(user, "Ann" if user else "Sera", text)


def lorebook(n: int):
    entries = {
        str(i): {
            "uid": i,
            "key": [f"{WORDS[i % 10]}{i}", f"topic{i}"] if i >= 10 else [WORDS[i]],
            "content": f"Lore entry {i} about the {WORDS[i % 10]}.",
            "order": i % 200,
        }
        for i in range(n)
    }
    return lorebook_from_dict({"entries": entries}, f"book{n}")


def make_input(messages: int, entries: int, mode: str, book, tokenizer) -> PromptInput:
    card = new_card("Sera", description="Sera guards the glade. " * 20, personality="calm")
    settings = PromptSettings(
        mode=mode,  # type: ignore[arg-type]
        context_size=8192,
        max_reply_tokens=512,
        system_prompt="Be {{char}}.",
        text=TextSettings(
            instruct=load_bundled("instruct", "ChatML"), context=load_bundled("context", "ChatML")
        ),
    )
    return PromptInput(
        card=card,
        history=LazyHistory(messages),
        tokenizer=tokenizer,
        settings=settings,
        lorebooks=WorldInfoSources(global_books=[book]),
    )


def compare(entries: int, mode: str, runs: int = 15) -> tuple[float, float, int, int]:
    """Interleave 1k and 100k builds; return the best time of each (robust on a busy box)."""
    book = lorebook(entries)
    tokenizer = OpenAITokenizer("cl100k_base")
    best = {1_000: float("inf"), 100_000: float("inf")}
    reads = {1_000: 0, 100_000: 0}
    for _ in range(runs):
        for n in best:
            inp = make_input(n, entries, mode, book, tokenizer)
            start = time.perf_counter()
            built = assemble(inp)
            best[n] = min(best[n], time.perf_counter() - start)
            assert isinstance(inp.history, LazyHistory)
            reads[n] = inp.history.reads
            assert built.breakdown.history_included < n
    return best[1_000], best[100_000], reads[1_000], reads[100_000]


def main() -> None:
    for mode in ("chat", "text"):
        for entries in (10, 5_000):
            small, big, small_reads, big_reads = compare(entries, mode)
            print(
                f"{mode:4} lore={entries:5}: 1k msgs {small * 1000:7.1f} ms ({small_reads} read)  "
                f"100k msgs {big * 1000:7.1f} ms ({big_reads} read)  ratio {big / small:.2f}"
            )


if __name__ == "__main__":
    main()
