"""Tokens per second: pytavern's ``local`` provider vs llama-cpp-python on the same ``Llama``.

Same prompt, same settings (temperature 0, fixed seed, NEW_TOKENS new tokens), run
alternately in one process (the order flips every round). Prints both and the ratio
pytavern/raw; the target is >= 0.95.

    PYTHONPATH=src python bench/local_throughput.py [rounds] [new_tokens]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from typing import Any

from pytavern.events import Finished, TextDelta
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.local import LocalProvider
from pytavern.types import ChatMessage, GenerationRequest, SamplerSettings

QUESTION = "Write a long story about a lighthouse keeper and a storm."
SEED = 1234


def raw_round(llama: Any, new_tokens: int) -> tuple[int, float]:
    """Stream one reply straight from llama-cpp-python; return (pieces, seconds)."""
    start = time.perf_counter()
    pieces = 0
    for chunk in llama.create_chat_completion(
        messages=[{"role": "user", "content": QUESTION}],
        stream=True,
        max_tokens=new_tokens,
        temperature=0,
        seed=SEED,
    ):
        if chunk["choices"][0]["delta"].get("content"):
            pieces += 1
    return pieces, time.perf_counter() - start


async def pytavern_round(provider: LocalProvider, new_tokens: int) -> tuple[int, float]:
    """Stream one reply through pytavern's provider; return (pieces, seconds)."""
    request = GenerationRequest(
        messages=(ChatMessage("user", QUESTION),),
        sampling=SamplerSettings(max_tokens=new_tokens, temperature=0, seed=SEED),
    )
    start = time.perf_counter()
    pieces = 0
    async for event in provider.stream(request):
        if isinstance(event, TextDelta):
            pieces += 1
        elif isinstance(event, Finished):
            assert event.reason == "length", event
    return pieces, time.perf_counter() - start


async def main(rounds: int, new_tokens: int) -> None:
    provider = LocalProvider(ConnectionConfig(name="bench", api="local"))
    llama = (await provider.ensure_loaded()).llama
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{rounds} rounds x {new_tokens} tokens; n_threads {llama.n_threads}; load avg {load}")
    raw_round(llama, 8)  # warm up both paths
    await pytavern_round(provider, 8)
    speeds: dict[str, list[float]] = {"raw": [], "pytavern": []}
    for index in range(rounds):
        order = ["raw", "pytavern"] if index % 2 == 0 else ["pytavern", "raw"]
        for name in order:
            if name == "raw":
                pieces, seconds = raw_round(llama, new_tokens)
            else:
                pieces, seconds = await pytavern_round(provider, new_tokens)
            # Both paths generate exactly new_tokens tokens (finish reason "length").
            speeds[name].append(new_tokens / seconds)
            print(f"round {index + 1:2d} {name:8} {pieces:4d} pieces {speeds[name][-1]:7.2f} tok/s")
    pair_ratios = [ours / raw for ours, raw in zip(speeds["pytavern"], speeds["raw"], strict=True)]
    raw_tps, ours_tps = statistics.median(speeds["raw"]), statistics.median(speeds["pytavern"])
    print(f"raw llama-cpp-python: median {raw_tps:.2f} tok/s, best {max(speeds['raw']):.2f}")
    print(f"pytavern local:       median {ours_tps:.2f} tok/s, best {max(speeds['pytavern']):.2f}")
    print(f"ratio pytavern/raw:   {ours_tps / raw_tps:.3f} of medians (target >= 0.95)")
    print(f"                      {max(speeds['pytavern']) / max(speeds['raw']):.3f} of bests")
    print(f"                      {statistics.median(pair_ratios):.3f} median of per-round pairs")
    print(f"load avg now {', '.join(f'{x:.2f}' for x in os.getloadavg())} (noisy if above ~1)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(*(args + [10, 128][len(args) :])))
