"""What pytavern's server costs per streamed turn, on fresh and long chats.

Three processes on loopback: a fake OpenAI-compatible upstream (64 chunks per reply, no
delay), ``pytavern serve`` with a ``custom`` connection pointed at it, and this load client.
Chats: a fresh one and ones imported from SillyTavern JSONL with 1k, 10k and 50k messages.
Each round streams replies directly from the upstream and through pytavern (HTTP in, SSE
out, the prompt built from the stored chat, every chunk parsed into pytavern's events, both
messages persisted), in alternating batches, level by level (every chat at 1 stream first,
then at 16, then 64: see ``measure``), and prints per chat and concurrency:

- server CPU per turn: run time of the server process's threads (``/proc/PID/task/*/
  schedstat``, nanoseconds) spent while only pytavern's batches ran, divided by their turns;
- TTFT direct and through the server, and what the server adds;
- turns per second, direct and through the server;
- the server's peak RSS (``VmHWM``) and the cold start (``pytavern serve`` to first 200,
  its bytecode cached as in an installed package).

Exits 1 when a target of issue 13 is missed (CPU <= 2.0 ms per turn at 1 and 16 streams on
the 10k chat, 50k within 1.2x of 1k, added TTFT <= 1.5 ms at 1 stream, turns/s at 64
streams >= 0.1x direct, peak RSS <= 150 MB, cold start <= 1.0 s).

    PYTHONPATH=src python bench/stream_overhead.py [--requests 200] [--chunks 64] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-0123456789abcdef"
CHAT_SIZES: tuple[int, ...] = (0, 1_000, 10_000, 50_000)
"""Messages in the imported chats (0: a fresh chat, the greeting only)."""
MAIN_CHAT = 10_000
LEVELS = {0: (1, 16), 1_000: (1, 16), 10_000: (1, 16, 64), 50_000: (1, 16)}
CPU_LIMIT_MS = 2.0
LONG_RATIO = 1.2
TTFT_LIMIT_MS = 1.5
THROUGHPUT_RATIO = 0.1
RSS_LIMIT_MB = 150.0
COLD_START_LIMIT_S = 1.0
TICK = os.sysconf("SC_CLK_TCK")


# ---------- the fake upstream (run with --upstream PORT CHUNKS) ----------


def upstream_app(chunks: int):  # type: ignore[no-untyped-def]
    """A raw ASGI OpenAI-compatible server: /v1/models and streamed /v1/chat/completions."""
    head = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "bench",
    }
    frames = [
        b"data: "
        + json.dumps(head | {"choices": [{"index": 0, "delta": {"role": "assistant"}}]}).encode()
        + b"\n\n"
    ]
    for i in range(chunks):
        delta = {"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}
        frames.append(b"data: " + json.dumps(head | {"choices": [delta]}).encode() + b"\n\n")
    stop = {"index": 0, "delta": {}, "finish_reason": "stop"}
    frames.append(b"data: " + json.dumps(head | {"choices": [stop]}).encode() + b"\n\n")
    usage = {"prompt_tokens": 10, "completion_tokens": chunks, "total_tokens": 10 + chunks}
    frames.append(b"data: " + json.dumps(head | {"choices": [], "usage": usage}).encode() + b"\n\n")
    frames.append(b"data: [DONE]\n\n")
    models = json.dumps({"object": "list", "data": [{"id": "bench", "object": "model"}]}).encode()

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        if scope["path"].endswith("/models"):
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": models})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        for frame in frames:
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


def run_upstream(port: int, chunks: int) -> None:
    import uvicorn

    uvicorn.run(
        upstream_app(chunks),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


# ---------- the floor: a proxy with nothing in it (run with --proxy PORT UPSTREAM) ----------


def proxy_app(upstream: str):  # type: ignore[no-untyped-def]
    """Raw ASGI + one aiohttp session (the client pytavern's backends use): relays one
    upstream stream as SSE, with no framework, store or prompt. What it adds to TTFT is
    about the least a Python proxy pays here for the second hop."""
    import aiohttp

    body = json.dumps(
        {"model": "bench", "stream": True, "messages": [{"role": "user", "content": "Hello"}]}
    ).encode()
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    url = f"{upstream}/v1/chat/completions"
    sessions: list[aiohttp.ClientSession] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if not sessions:
            sessions.append(aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)))
        async with sessions[0].post(url, data=body, headers=headers) as answer:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")],
                }
            )
            while chunk := await answer.content.readany():
                if b'"content"' in chunk:
                    frame = b"event: text\ndata: {}\n\n"
                    await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


def run_proxy(port: int, upstream: str) -> None:
    import uvicorn

    uvicorn.run(proxy_app(upstream), host="127.0.0.1", port=port, log_level="warning")


async def proxy_floor(upstream: str, proxy: str, requests: int, pid: int) -> tuple[float, float]:
    """The empty proxy at 1 stream, measured like pytavern: its added TTFT (p50, ms) and
    its CPU per turn (ms)."""
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(20):
            await _timed(http, "POST", f"{proxy}/relay", {}, {}, b"event: text")
        before = cpu_seconds(pid)
        relayed = [
            await _timed(http, "POST", f"{proxy}/relay", {}, {}, b"event: text")
            for _ in range(requests)
        ]
        cpu = cpu_seconds(pid) - before
        direct = [await stream_direct(http, upstream) for _ in range(requests)]
    added = p50([s.ttft for s in relayed]) - p50([s.ttft for s in direct])
    return added, cpu / requests * 1000


# ---------- the load client ----------


@dataclass
class Sample:
    ttft: float
    per_token: float
    """Mean gap between text frames (pytavern joins what one read of the upstream brought
    into one frame, so a quick upstream's reply comes as a few frames, not one a token)."""


@dataclass
class Level:
    """One chat at one concurrency: both targets' samples, wall time and server CPU."""

    chat: int
    streams: int
    direct: list[Sample] = field(default_factory=list)
    via: list[Sample] = field(default_factory=list)
    direct_seconds: float = 0.0
    via_seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def cpu_ms_per_turn(self) -> float:
        return self.cpu_seconds * 1000 / max(1, len(self.via))

    @property
    def added_ttft_ms(self) -> float:
        return p50([s.ttft for s in self.via]) - p50([s.ttft for s in self.direct])

    @property
    def throughput(self) -> tuple[float, float]:
        return len(self.direct) / self.direct_seconds, len(self.via) / self.via_seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used so far: its threads' run time in nanoseconds from
    ``/proc/PID/task/*/schedstat`` (``/proc/PID/stat``'s clock ticks, 10 ms, are too
    coarse for a few turns), else user + system time from ``stat``."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    return total / 1e9


def peak_rss_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's peak resident set size (``VmRSS``: the current one)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def stream_direct(http: httpx.AsyncClient, url: str) -> Sample:
    body = {
        "model": "bench",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "Hello"}],
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    return await _timed(http, "POST", f"{url}/v1/chat/completions", body, headers, b'"content"')


async def stream_server(http: httpx.AsyncClient, url: str, chat_id: int) -> Sample:
    body = {"mode": "send", "text": "Hello"}
    return await _timed(
        http, "POST", f"{url}/api/chats/{chat_id}/generate", body, {}, b"event: text"
    )


async def _timed(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    body: object,
    headers: dict[str, str],
    marker: bytes,
) -> Sample:
    started = time.perf_counter()
    first = last = 0.0
    count = 0
    async with http.stream(method, url, json=body, headers=headers) as response:
        response.raise_for_status()
        async for chunk in response.aiter_raw():
            hits = chunk.count(marker)
            if hits:
                now = time.perf_counter()
                if not count:
                    first = now
                last = now
                count += hits
    gaps = (last - first) / (count - 1) if count > 1 else 0.0
    return Sample(first - started, gaps)


async def run_batch(
    concurrency: int, total: int, one: Callable[[], Awaitable[Sample]]
) -> tuple[list[Sample], float]:
    left = [total]
    samples: list[Sample] = []

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            samples.append(await one())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples, time.perf_counter() - started


async def measure_level(
    http: httpx.AsyncClient, targets: tuple[str, str, int], level: Level, total: int
) -> None:
    """``total`` streams to each target in alternating batches of ``4 * streams``, so both
    see the machine in the same state; server CPU is read around pytavern's batches only."""
    upstream, server, pid = targets
    batch = 4 * level.streams
    for _ in range(max(1, total // batch)):
        taken, spent = await run_batch(level.streams, batch, lambda: stream_direct(http, upstream))
        level.direct += taken
        level.direct_seconds += spent
        before = cpu_seconds(pid)
        taken, spent = await run_batch(
            level.streams, batch, lambda: stream_server(http, server, level.chat)
        )
        level.cpu_seconds += cpu_seconds(pid) - before
        level.via += taken
        level.via_seconds += spent


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


# ---------- the data: chats imported from SillyTavern JSONL ----------


def st_chat_jsonl(messages: int) -> bytes:
    """A SillyTavern chat file of ``messages`` alternating user and character lines of
    ordinary length (~300 characters)."""
    header = {"user_name": "User", "character_name": "Bench", "create_date": "2025-01-01"}
    lines = [json.dumps(header)]
    filler = "The rain kept on over the harbour while they talked about the voyage. "
    for index in range(messages):
        is_user = index % 2 == 0
        line = {
            "name": "User" if is_user else "Bench",
            "is_user": is_user,
            "is_system": False,
            "send_date": "2025-01-01T00:00:00.000Z",
            "mes": f"Message {index}. " + filler * 4,
        }
        lines.append(json.dumps(line))
    return "\n".join(lines).encode()


def setup_data(data_dir: Path, upstream: str) -> dict[int, int]:
    """The connection and the chats: messages in the chat -> chat id."""
    from pytavern.engine import Engine
    from pytavern.engine.transfer import import_chat
    from pytavern.settings import Settings

    engine = Engine.open(Settings(data_dir=data_dir))
    engine.store.save_connection(name="bench", api="custom", url=f"{upstream}/v1", model="bench")
    engine.store.set_default_connection("bench")
    engine.secrets.set("bench", KEY)
    character = engine.store.list_characters()[0].id
    chats = {0: engine.start_chat(character).id}
    for size in CHAT_SIZES[1:]:
        data = st_chat_jsonl(size)
        chats[size] = import_chat(engine.store, data, f"bench-{size}.jsonl", character).id
    asyncio.run(engine.aclose())
    return chats


def wait_port(port: int, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def start_server(env: dict[str, str], port: int) -> tuple[subprocess.Popen[bytes], float, float]:
    """``pytavern serve``, the seconds from its start to its first HTTP 200 and the CPU
    seconds it had used by then (less disturbed by other load than the wall time)."""
    command = [sys.executable, "-m", "pytavern", "serve", "--no-browser", "--port", str(port)]
    started = time.perf_counter()
    log = open(Path(env["PYTAVERN_DATA_DIR"]) / "server.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/api/health"
    while time.perf_counter() - started < 30:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return process, time.perf_counter() - started, cpu_seconds(process.pid)
        except httpx.TransportError:
            time.sleep(0.005)
    process.terminate()
    raise RuntimeError("the server did not answer within 30 s")


def installed_env(env: dict[str, str], data_dir: Path) -> dict[str, str]:
    """The server's environment: ``data_dir``, and its bytecode cached (in ``data_dir``) as
    pip compiles an installed package's, even where PYTHONDONTWRITEBYTECODE is set."""
    server_env = env | {
        "PYTAVERN_DATA_DIR": str(data_dir),
        "PYTHONPYCACHEPREFIX": str(data_dir / "pycache"),
    }
    server_env.pop("PYTHONDONTWRITEBYTECODE", None)
    return server_env


def cold_start(env: dict[str, str], runs: int = 5) -> tuple[float, float]:
    """Median seconds from ``pytavern serve`` to its first HTTP 200, and median CPU
    seconds the server used to get there (after one start that caches the bytecode)."""
    process, _seconds, _used = start_server(env, free_port())
    process.terminate()
    process.wait(timeout=10)
    times, cpu = [], []
    for _ in range(runs):
        process, seconds, used = start_server(env, free_port())
        times.append(seconds)
        cpu.append(used)
        process.terminate()
        process.wait(timeout=10)
    return statistics.median(times), statistics.median(cpu)


async def long_against_short(
    http: httpx.AsyncClient, server: str, pid: int, chats: tuple[int, int], turns: int
) -> tuple[float, float]:
    """Server CPU per turn (ms) on two chats, one stream, in alternating batches of 4 (so
    a change in the machine's load between two separate runs cannot pass for a cost of
    the chat's length)."""
    spent = [0.0, 0.0]
    for _ in range(max(1, turns // 4)):
        for index, chat_id in enumerate(chats):
            before = cpu_seconds(pid)
            await run_batch(1, 4, lambda chat_id=chat_id: stream_server(http, server, chat_id))
            spent[index] += cpu_seconds(pid) - before
    done = 4 * max(1, turns // 4)
    return spent[0] * 1000 / done, spent[1] * 1000 / done


async def measure(
    upstream: str, server: str, pid: int, chats: dict[int, int], requests: int
) -> tuple[list[Level], tuple[float, float]]:
    """Every level of every chat, then the 1k and 50k chats against each other.

    The levels run by concurrency, the 1-stream ones first: on a two-core machine, a burst
    of concurrent streams leaves the scheduler placing the next sequential requests' three
    processes worse for a while (after a 16-stream burst of direct requests that never
    touched pytavern, the direct TTFT rose from ~0.45 to 0.6-0.9 ms and pytavern's server
    waited ~0.6 ms between the upstream's head and its first chunk, against 0.05 ms with
    the upstream and the server pinned to separate cores): that is the machine's state
    after the previous level, not what pytavern adds at one stream."""
    limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
    levels: list[Level] = []
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        for chat_id in chats.values():
            for _ in range(10):  # warm: the first turn of a chat pages from the store
                await stream_direct(http, upstream)
                await stream_server(http, server, chat_id)
        print(f"server RSS after its first turns: {peak_rss_mb(pid, 'VmRSS'):.0f} MB")
        for streams in sorted({n for counts in LEVELS.values() for n in counts}):
            for size, chat_id in chats.items():
                if streams not in LEVELS[size]:
                    continue
                level = Level(chat=chat_id, streams=streams)
                await measure_level(
                    http, (upstream, server, pid), level, max(requests, streams * 4)
                )
                levels.append(level)
        pair = (chats[1_000], chats[50_000])
        return levels, await long_against_short(http, server, pid, pair, 2 * requests)


def table(levels: list[Level], sizes: dict[int, int]) -> list[str]:
    lines = [
        f"{'chat':>6} {'streams':>7} | {'CPU/turn':>9} | {'TTFT direct':>11} {'via':>8} "
        f"{'added':>8} | {'turns/s direct':>14} {'via':>6} {'ratio':>6} | {'gap via':>13}"
    ]
    for level in levels:
        d_tps, s_tps = level.throughput
        lines.append(
            f"{sizes[level.chat]:>6} {level.streams:>7} | {level.cpu_ms_per_turn:>7.2f}ms | "
            f"{p50([s.ttft for s in level.direct]):>9.2f}ms "
            f"{p50([s.ttft for s in level.via]):>6.2f}ms {level.added_ttft_ms:>+6.2f}ms | "
            f"{d_tps:>14.0f} {s_tps:>6.0f} {s_tps / d_tps:>6.2f} | "
            f"{p50([s.per_token for s in level.via]) * 1000:>11.1f}us"
        )
    return lines


def verdicts(
    levels: list[Level],
    sizes: dict[int, int],
    long_short: tuple[float, float],
    memory: tuple[float, tuple[float, float]],
) -> list[tuple[str, bool]]:
    """Each target of issue 13: what was measured and whether it holds."""
    by = {(sizes[level.chat], level.streams): level for level in levels}
    checks: list[tuple[str, bool]] = []
    for streams in (1, 16):
        cpu = by[(MAIN_CHAT, streams)].cpu_ms_per_turn
        checks.append(
            (
                f"CPU per turn, 10k chat, {streams} streams: {cpu:.2f} ms (<= {CPU_LIMIT_MS})",
                cpu <= CPU_LIMIT_MS,
            )
        )
    rss, start = memory
    small, big = long_short
    checks.append(
        (
            f"CPU per turn 50k / 1k chat, alternating: {big:.2f} / {small:.2f} ms = "
            f"{big / small:.2f}x "
            f"(<= {LONG_RATIO}x)",
            big <= LONG_RATIO * small,
        )
    )
    added = by[(MAIN_CHAT, 1)].added_ttft_ms
    checks.append(
        (f"added TTFT at 1 stream: {added:.2f} ms (<= {TTFT_LIMIT_MS})", added <= TTFT_LIMIT_MS)
    )
    direct, via = by[(MAIN_CHAT, 64)].throughput
    checks.append(
        (
            f"turns/s at 64 streams, 10k chat: {via:.0f} = {via / direct:.2f}x direct "
            f"(>= {THROUGHPUT_RATIO}x)",
            via >= THROUGHPUT_RATIO * direct,
        )
    )
    checks.append(
        (f"peak RSS of the server: {rss:.0f} MB (<= {RSS_LIMIT_MB:.0f})", rss <= RSS_LIMIT_MB)
    )
    checks.append(
        (
            f"cold start to first 200: {start[0]:.2f} s (<= {COLD_START_LIMIT_S}; "
            f"{start[1]:.2f} s of CPU)",
            start[0] <= COLD_START_LIMIT_S,
        )
    )
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="streams per level and target")
    parser.add_argument("--chunks", type=int, default=64)
    parser.add_argument("--floor", action="store_true", help="also measure an empty proxy")
    parser.add_argument(
        "--upstream", nargs=2, type=int, metavar=("PORT", "CHUNKS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--proxy", nargs=2, metavar=("PORT", "UPSTREAM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        run_upstream(*args.upstream)
        return
    if args.proxy:
        run_proxy(int(args.proxy[0]), args.proxy[1])
        return
    sys.exit(0 if run(args.requests, args.chunks, args.floor) else 1)


def run(requests: int, chunks: int, floor: bool) -> bool:
    """The whole benchmark; True when every target holds."""
    up_port, server_port = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            processes.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--upstream", str(up_port), str(chunks)], env=env
                )
            )
            wait_port(up_port)
            upstream = f"http://127.0.0.1:{up_port}"
            started = time.perf_counter()
            chats = setup_data(Path(tmp), upstream)
            print(
                f"imported chats of {CHAT_SIZES[1:]} messages "
                f"in {time.perf_counter() - started:.1f} s"
            )
            server_env = installed_env(env, Path(tmp))
            start = cold_start(server_env)
            server, _seconds, _cpu = start_server(server_env, server_port)
            processes.append(server)
            print(
                f"{chunks} chunks per reply, {requests} streams per level and target, "
                f"p50 figures, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
            )
            url = f"http://127.0.0.1:{server_port}"
            levels, long_short = asyncio.run(measure(upstream, url, server.pid, chats, requests))
            rss = peak_rss_mb(server.pid)
            sizes = {chat_id: size for size, chat_id in chats.items()}
            print("\n".join(table(levels, sizes)))
            if floor:
                print(empty_proxy_floor(env, upstream, requests, processes))
            checks = verdicts(levels, sizes, long_short, (rss, start))
            for text, holds in checks:
                print(f"{'PASS' if holds else 'FAIL'}: {text}")
            return all(holds for _text, holds in checks)
        except Exception:
            log = Path(tmp) / "server.log"
            if log.exists():
                print("server log (tail):", *log.read_text().splitlines()[-40:], sep="\n")
            raise
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)


def empty_proxy_floor(
    env: dict[str, str], upstream: str, requests: int, processes: list[subprocess.Popen[bytes]]
) -> str:
    proxy_port = free_port()
    proxy = subprocess.Popen(
        [sys.executable, __file__, "--proxy", str(proxy_port), upstream], env=env
    )
    processes.append(proxy)
    wait_port(proxy_port)
    url = f"http://127.0.0.1:{proxy_port}"
    added, cpu = asyncio.run(proxy_floor(upstream, url, requests, proxy.pid))
    return (
        f"for reference, an empty proxy (raw ASGI + aiohttp: no framework, store or "
        f"prompt, no event parsed) adds {added:.2f} ms to TTFT and spends {cpu:.2f} ms of "
        f"CPU per turn at 1 stream on this machine"
    )


if __name__ == "__main__":
    main()
