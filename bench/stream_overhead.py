"""What pytavern's server adds to a streamed reply: time to first token and per-token delay.

Three processes on loopback: a fake OpenAI-compatible upstream (64 chunks per reply, no
delay), ``pytavern serve`` with a ``custom`` connection pointed at it, and this load client.
Each round streams replies directly from the upstream and through pytavern (HTTP in, SSE
out, every chunk parsed into pytavern's events and the reply persisted), at 1, 16 and 64
concurrent streams, and prints the ratios. Added TTFT at 1 stream must stay under 5 ms.

    PYTHONPATH=src python bench/stream_overhead.py [--requests 200] [--chunks 64]
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
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-0123456789abcdef"
LEVELS = (1, 16, 64)


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


async def proxy_floor(upstream: str, proxy: str, requests: int) -> float:
    """Added TTFT (p50, ms) of the empty proxy at 1 stream, measured like pytavern's."""
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(20):
            await _timed(http, "POST", f"{proxy}/relay", {}, {}, b"event: text")
        relayed = [
            await _timed(http, "POST", f"{proxy}/relay", {}, {}, b"event: text")
            for _ in range(requests)
        ]
        direct = [await stream_direct(http, upstream) for _ in range(requests)]
    return p50([s.ttft for s in relayed]) - p50([s.ttft for s in direct])


# ---------- the load client ----------


@dataclass
class Sample:
    ttft: float
    per_token: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


async def run_level(concurrency: int, total: int, one: object) -> tuple[list[Sample], float]:
    queue = list(range(total))
    samples: list[Sample] = []

    async def worker() -> None:
        while queue:
            index = queue.pop()
            samples.append(await one(index))  # type: ignore[operator]

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples, time.perf_counter() - started


async def interleaved(
    concurrency: int, total: int, direct: object, via: object
) -> tuple[list[Sample], float, list[Sample], float]:
    """``total`` streams to each target in alternating batches of ``4 * concurrency``, so
    both see the machine in the same state (a drift between two long runs would otherwise
    show up as a difference between the targets)."""
    batch = 4 * concurrency
    samples: tuple[list[Sample], list[Sample]] = ([], [])
    seconds = [0.0, 0.0]
    for _ in range(max(1, total // batch)):
        for index, one in enumerate((direct, via)):
            taken, spent = await run_level(concurrency, batch, one)
            samples[index].extend(taken)
            seconds[index] += spent
    return samples[0], seconds[0], samples[1], seconds[1]


def _us(seconds_ms: float) -> str:
    """A per-token gap for the table ('one read' when the reply came in a single read)."""
    return f"{seconds_ms * 1000:.1f}us" if seconds_ms else "one read"


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


async def engine_ttft(data_dir: Path, chats: list[int], count: int) -> float:
    """TTFT p50 of ``Engine.generate`` called in this process (no HTTP in front)."""
    from pytavern.engine import Engine
    from pytavern.events import TextDelta
    from pytavern.settings import Settings

    engine = Engine.open(Settings(data_dir=data_dir))
    times: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        first = 0.0
        async for event in engine.generate(chats.pop(), "send", "Hello"):
            if not first and isinstance(event, TextDelta):
                first = time.perf_counter() - started
        times.append(first)
    await engine.aclose()
    return p50(times[count // 5 :])


def setup_data(data_dir: Path, upstream: str, chats: int) -> list[int]:
    from pytavern.engine import Engine
    from pytavern.settings import Settings

    engine = Engine.open(Settings(data_dir=data_dir))
    engine.store.save_connection(name="bench", api="custom", url=f"{upstream}/v1", model="bench")
    engine.store.set_default_connection("bench")
    engine.secrets.set("bench", KEY)
    character = engine.store.list_characters()[0].id
    ids = [engine.start_chat(character).id for _ in range(chats)]
    asyncio.run(engine.aclose())
    return ids


def wait_port(port: int, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


async def measure(upstream: str, server: str, chats: list[int], requests: int) -> list[str]:
    limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
    lines = [
        f"{'streams':>7} | {'TTFT direct':>11} {'via server':>10} {'added':>8} {'ratio':>6} | "
        f"{'per-token direct':>16} {'via server':>10} {'ratio':>6} | "
        f"{'req/s direct':>12} {'via server':>10}"
    ]
    verdict = ""
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        for _ in range(20):
            await stream_direct(http, upstream)
            await stream_server(http, server, chats.pop())
        for level in LEVELS:
            total = max(requests, level * 4)
            direct, direct_time, via, via_time = await interleaved(
                level,
                total,
                lambda _i: stream_direct(http, upstream),
                lambda _i: stream_server(http, server, chats.pop()),
            )
            d_ttft, s_ttft = p50([s.ttft for s in direct]), p50([s.ttft for s in via])
            d_tok, s_tok = p50([s.per_token for s in direct]), p50([s.per_token for s in via])
            lines.append(
                f"{level:>7} | {d_ttft:>9.2f}ms {s_ttft:>8.2f}ms "
                f"{s_ttft - d_ttft:>+6.2f}ms {s_ttft / d_ttft:>6.2f} | "
                f"{_us(d_tok):>16} {_us(s_tok):>10} "
                f"{(f'{s_tok / d_tok:.2f}' if d_tok and s_tok else 'n/a'):>6} | "
                f"{total / direct_time:>12.0f} {total / via_time:>10.0f}"
            )
            if level == 1:
                added = s_ttft - d_ttft
                outcome = "PASS" if added < 5 else "FAIL"
                verdict = f"added TTFT at 1 stream: {added:.2f} ms ({outcome}: limit 5 ms)"
    return [*lines, verdict]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="streams per level and target")
    parser.add_argument("--chunks", type=int, default=64)
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
    up_port, server_port = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            processes.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--upstream", str(up_port), str(args.chunks)],
                    env=env,
                )
            )
            wait_port(up_port)
            upstream = f"http://127.0.0.1:{up_port}"
            needed = 140 + sum(max(args.requests, level * 4) for level in LEVELS)
            chats = setup_data(Path(tmp), upstream, needed)
            server_env = env | {"PYTAVERN_DATA_DIR": tmp}
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "pytavern",
                        "serve",
                        "--no-browser",
                        "--port",
                        str(server_port),
                    ],
                    env=server_env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_port(server_port)
            server = f"http://127.0.0.1:{server_port}"
            print(
                f"{args.chunks} chunks per reply, {args.requests} streams per level and target, "
                f"p50 figures, {os.cpu_count()} CPUs"
            )
            for line in asyncio.run(measure(upstream, server, chats, args.requests)):
                print(line)
            alone = asyncio.run(engine_ttft(Path(tmp), chats, 100))
            print(
                f"for reference, Engine.generate in this process (store + prompt + provider, "
                f"no HTTP): TTFT p50 {alone:.2f} ms"
            )
            proxy_port = free_port()
            processes.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--proxy", str(proxy_port), upstream], env=env
                )
            )
            wait_port(proxy_port)
            floor = asyncio.run(
                proxy_floor(upstream, f"http://127.0.0.1:{proxy_port}", args.requests)
            )
            print(
                f"for reference, an empty proxy (raw ASGI + aiohttp: no framework, store or "
                f"prompt) adds {floor:.2f} ms to TTFT at 1 stream on this machine"
            )
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
