"""Two source trees of pytavern side by side: server CPU and time to first token per
streamed turn, turn by turn.

For changes of a few percent, which ``stream_overhead.py``'s figures (one batch per level)
cannot tell from the host's noise. Each tree serves from two processes (a process's own
layout moves its figures by a few percent), all four on copies of one data directory, the
10k-message chat, one stream. Batches of turns go to the four in turn, in an order that
alternates, and the server's CPU is read from ``/proc/PID/task/*/schedstat`` (nanoseconds)
around every turn: each turn is one sample, and the medians and quartiles of the samples are
compared (the host's bursts move the means, not the medians; the means are shown for
work that comes now and then, such as SQLite's checkpoints). Each turn's time to first
token, as the client saw it, is compared the same way.

    PYTHONPATH=src python bench/turn_cpu_ab.py --a /path/to/old/src --b src [--rounds 20]

The trees are what ``PYTHONPATH`` points at (a ``git worktree`` of another commit's ``src``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stream_overhead as bench

WARM_TURNS = 60


Turn = tuple[float, float]
"""One turn: the server's CPU and the time to first token, in milliseconds."""


async def _turns(url: str, pid: int, chat: int, count: int) -> list[Turn]:
    """``count`` turns, one at a time: the server's CPU and the TTFT of each."""
    samples = []
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(count):
            before = bench.cpu_seconds(pid)
            sample = await bench.stream_server(http, url, chat)
            samples.append(((bench.cpu_seconds(pid) - before) * 1000, sample.ttft * 1000))
    return samples


async def _drive(
    servers: list[tuple[str, str, int]], chat: int, rounds: int, batch: int
) -> dict[str, list[Turn]]:
    """Per tree name, every measured turn."""
    samples: dict[str, list[Turn]] = {}
    for _name, url, pid in servers:
        await _turns(url, pid, chat, WARM_TURNS)
    for number in range(rounds):
        order = servers if number % 2 == 0 else servers[::-1]
        for name, url, pid in order:
            samples.setdefault(name, []).extend(await _turns(url, pid, chat, batch))
    return samples


def _start(tree: str, data: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = bench.free_port()
    env = dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0")
    process, _, _ = bench.start_server(bench.installed_env(env, data), port)
    return process, port


def compare(trees: dict[str, str], rounds: int, batch: int) -> dict[str, list[Turn]]:
    """Run the comparison; per tree name, every measured turn."""
    bench.CHAT_SIZES = (0, bench.MAIN_CHAT)
    env = dict(os.environ, PYTHONPATH=trees["a"])
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        port = bench.free_port()
        upstream = subprocess.Popen(
            [sys.executable, bench.__file__, "--upstream", str(port), "64"], env=env
        )
        processes.append(upstream)
        try:
            bench.wait_port(port)
            chats = bench.setup_data(Path(tmp) / "data", f"http://127.0.0.1:{port}")
            servers = []
            for copy in ("a1", "b1", "a2", "b2"):
                shutil.copytree(Path(tmp) / "data", Path(tmp) / copy)
                process, server_port = _start(trees[copy[0]], Path(tmp) / copy)
                processes.append(process)
                servers.append((copy[0], f"http://127.0.0.1:{server_port}", process.pid))
            return asyncio.run(_drive(servers, chats[bench.MAIN_CHAT], rounds, batch))
        finally:
            for process in processes:
                process.terminate()
                process.wait()


def report(samples: dict[str, list[Turn]]) -> list[str]:
    """Lines of medians and quartiles per tree and figure, and B's against A's."""
    lines = []
    for index, figure in enumerate(("CPU per turn", "TTFT")):
        quartiles = {}
        for name in ("a", "b"):
            values = [turn[index] for turn in samples[name]]
            quartiles[name] = statistics.quantiles(values, n=4)
            q1, median, q3 = quartiles[name]
            lines.append(
                f"{name.upper()}: {len(values)} turns, {figure} q1 {q1:.3f} "
                f"median {median:.3f} q3 {q3:.3f} mean {statistics.fmean(values):.3f} ms"
            )
        ratios = [b / a for a, b in zip(quartiles["a"], quartiles["b"], strict=True)]
        lines.append(
            f"B / A, {figure}: q1 {ratios[0]:.3f}, median {ratios[1]:.3f}, "
            f"q3 {ratios[2]:.3f} (a tree against itself comes within a few percent of 1)"
        )
    return lines


def main() -> None:
    """Parse the arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="the first tree (PYTHONPATH of pytavern)")
    parser.add_argument("--b", required=True, help="the second tree")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=25, help="turns per server per round")
    args = parser.parse_args()
    trees = {"a": str(Path(args.a).resolve()), "b": str(Path(args.b).resolve())}
    for line in report(compare(trees, args.rounds, args.batch)):
        print(line)


if __name__ == "__main__":
    main()
