"""Prompt budgets counted with each backend's own tokenizer, through the engine, against the
fakes (whose tokenizers count one token a word, far from the 3.35 chars/token estimate)."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from pytavern.engine import Engine, prompting, token_counts
from pytavern.events import Finished, StreamEvent, TextDelta
from pytavern.prompt.assemble import assemble
from pytavern.prompt.inputs import PromptInput
from pytavern.prompt.tokens import CharRatioTokenizer
from pytavern.providers import create_provider
from pytavern.providers.base import ConnectionConfig
from pytavern.settings import Settings
from tests.fakes import anthropic_fake, gemini_fake, kobold, llamacpp, ollama, openai_text
from tests.fakes.server import FaultPlan, serve

FAST = {"max_retries": 1, "retry_base_delay": 0.01, "retry_max_delay": 0.01}


@dataclass(frozen=True)
class Backend:
    """A fake backend, its API type and model, and how to read a recorded tokenize call."""

    factory: Callable[..., Any]
    api: str
    model: str | None
    path: str
    text_of: Callable[[dict[str, Any]], str]
    key: str | None = None


def _json(field: str) -> Callable[[dict[str, Any]], str]:
    return lambda entry: str(entry["json"][field])


BACKENDS = {
    "ollama": Backend(ollama.create_app, "ollama", "llama3.2:3b", "", _json("prompt")),
    "llamacpp": Backend(llamacpp.create_app, "llamacpp", None, "/tokenize", _json("content")),
    "koboldcpp": Backend(
        kobold.create_app, "koboldcpp", None, "/api/extra/tokencount", _json("prompt")
    ),
    "ooba": Backend(
        partial(openai_text.create_app, flavour="ooba"),
        "ooba",
        openai_text.MODEL,
        "/v1/internal/encode",
        _json("text"),
    ),
    "tabby": Backend(
        partial(openai_text.create_app, flavour="tabby"),
        "tabby",
        openai_text.MODEL,
        "/v1/token/encode",
        _json("text"),
    ),
    "vllm": Backend(
        partial(openai_text.create_app, flavour="vllm"),
        "vllm",
        openai_text.MODEL,
        "/tokenize",
        _json("prompt"),
    ),
    "claude": Backend(
        anthropic_fake.create_app,
        "claude",
        "claude-haiku-4-5",
        "/v1/messages/count_tokens",
        lambda entry: str(entry["body"]["messages"][0]["content"]),
        anthropic_fake.DEFAULT_KEY,
    ),
    "gemini": Backend(
        gemini_fake.create_app,
        "gemini",
        "gemini-2.5-flash",
        "/v1beta/models/gemini-2.5-flash:countTokens",
        lambda entry: str(entry["body"]["contents"][0]["parts"][0]["text"]),
        gemini_fake.DEFAULT_KEY,
    ),
}


class Words:
    """The fakes' tokenizer: one token a whitespace-separated word."""

    def count(self, text: str) -> int:
        return len(text.split())


@dataclass
class Rig:
    engine: Engine
    plan: FaultPlan
    backend: Backend
    chat_id: int
    inputs: list[PromptInput]

    def counted(self) -> list[str]:
        """Texts counted through the backend so far (Claude's one-off overhead probe aside)."""
        calls = [r for r in self.plan.requests if r["path"] == self.backend.path]
        texts = [self.backend.text_of(r) for r in calls]
        return [t for t in texts if t != "."] if self.backend.api == "claude" else texts

    async def turn(self, mode: str = "send", text: str | None = None) -> list[StreamEvent]:
        return [e async for e in self.engine.generate(self.chat_id, mode, text)]  # type: ignore[arg-type]

    def last_prompt(self) -> dict[str, Any]:
        return dict(self.engine.store.last_prompt(self.chat_id))

    def total_with(self, tokenizer: Any) -> int:
        """The last build's total, built again from the same input with ``tokenizer``."""
        inp = dataclasses.replace(self.inputs[-1], tokenizer=tokenizer)
        return assemble(inp).breakdown.total_tokens


@contextmanager
def rig(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str, **plan_fields: Any
) -> Iterator[Rig]:
    """An engine whose default connection is the fake ``name``, with every builder input
    recorded."""
    backend = BACKENDS[name]
    plan = FaultPlan(**plan_fields)
    inputs: list[PromptInput] = []

    def recording(inp: PromptInput) -> Any:
        inputs.append(inp)
        return assemble(inp)

    monkeypatch.setattr(prompting, "assemble", recording)
    with serve(backend.factory(plan)) as url:
        engine = Engine.open(Settings(data_dir=data_dir))
        engine.store.save_connection(
            name="c", api=backend.api, url=url, model=backend.model, options=FAST
        )
        engine.store.set_default_connection("c")
        if backend.key:
            engine.secrets.set("c", backend.key)
        chat = engine.start_chat(engine.store.list_characters()[0].id)
        yield Rig(engine, plan, backend, chat.id, inputs)


def _reply(events: list[StreamEvent]) -> str:
    assert isinstance(events[-1], Finished) and events[-1].reason != "error", events[-1]
    return "".join(e.text for e in events if isinstance(e, TextDelta))


@pytest.mark.parametrize("name", sorted(set(BACKENDS) - {"ollama"}))
async def test_budgets_use_the_backends_own_counts(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    with rig(data_dir, monkeypatch, name) as r:
        assert _reply(await r.turn("send", "Tell me about the old lighthouse keeper"))
        prompt = r.last_prompt()
        exact, estimated = r.total_with(Words()), r.total_with(CharRatioTokenizer())
        assert exact != estimated
        assert prompt["tokenizer"] == "backend" and "chars_per_token" not in prompt
        assert prompt["total_tokens"] == exact
        assert r.counted()
        await r.engine.aclose()


@pytest.mark.parametrize("name", ["llamacpp", "claude"])
async def test_only_new_texts_are_counted_after_the_first_turn(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    with rig(data_dir, monkeypatch, name) as r:
        reply = _reply(await r.turn("send", "first question about ships"))
        first = r.counted()
        _reply(await r.turn("send", "second question about harbours"))
        second = r.counted()[len(first) :]
        assert len(second) == 2 and not set(second) & set(first)  # nothing counted twice
        assert "second question about harbours" in second[0]  # the new message
        assert reply.strip() in second[1]  # and the reply to the first
        assert r.last_prompt()["total_tokens"] == r.total_with(Words())
        before = len(r.counted())
        _reply(await r.turn("swipe"))  # same history: every count is cached
        assert len(r.counted()) == before
        assert r.last_prompt()["tokenizer"] == "backend"
        connection = r.engine.store.get_connection("c")
        assert "chars_per_token" not in connection.options  # exact counts teach nothing
        await r.engine.aclose()


async def test_a_slow_tokenizer_falls_back_to_the_estimate(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(token_counts, "COUNT_TIMEOUT", 0.3)
    caplog.set_level(logging.WARNING, logger="pytavern.engine.token_counts")
    with rig(data_dir, monkeypatch, "llamacpp", stall_seconds=3.0) as r:
        r.plan.tokenize_fault = "stall"
        started = time.monotonic()
        assert _reply(await r.turn("send", "is anyone there"))
        assert time.monotonic() - started < 2.0
        prompt = r.last_prompt()
        assert "estimated at 3.35 chars/token" in prompt["tokenizer"]
        assert prompt["total_tokens"] == r.total_with(CharRatioTokenizer())
        asked = len(r.counted())
        assert _reply(await r.turn("send", "hello again"))  # backing off: not asked
        assert len(r.counted()) == asked
        warnings = [rec.getMessage() for rec in caplog.records]
        assert len(warnings) == 1 and "did not answer within 0.3 s" in warnings[0]
        await r.engine.aclose()


async def test_a_failing_tokenizer_falls_back_logs_once_and_recovers(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(token_counts, "RETRY_AFTER_FAILURE", 0.0)
    caplog.set_level(logging.WARNING, logger="pytavern.engine.token_counts")
    with rig(data_dir, monkeypatch, "gemini") as r:
        r.plan.tokenize_fault = "500"
        assert _reply(await r.turn("send", "one"))
        assert _reply(await r.turn("send", "two"))
        assert "estimated" in r.last_prompt()["tokenizer"]
        warnings = [rec.getMessage() for rec in caplog.records]
        assert len(warnings) == 1 and "HTTP 500" in warnings[0]
        assert gemini_fake.DEFAULT_KEY not in warnings[0]
        r.plan.tokenize_fault = None
        assert _reply(await r.turn("send", "three"))
        assert r.last_prompt()["tokenizer"] == "backend"
        assert r.last_prompt()["total_tokens"] == r.total_with(Words())
        await r.engine.aclose()


async def test_the_estimate_learns_from_reported_usage(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rig(data_dir, monkeypatch, "ollama") as r:  # no tokenizer; reports prompt_eval_count
        provider = await r.engine.providers.get(r.engine.store.get_connection("c"))
        assert _reply(await r.turn("send", "a question about the weather at sea today"))
        assert r.last_prompt()["tokenizer"] == "estimate 3.35 chars/token"
        assert r.last_prompt()["total_tokens"] == r.total_with(CharRatioTokenizer())

        def observed() -> float:
            prompt = [q for q in r.plan.requests if q["path"] == "/api/generate"][-1]
            text = prompt["json"]["prompt"]
            return float(len(text) / len(text.split()))  # the fake's usage: a token a word

        def stored() -> float:
            return float(r.engine.store.get_connection("c").options["chars_per_token"])

        first_seen, first = observed(), stored()
        assert first_seen > 4.0  # English words: far more than 3.35 characters a token
        assert first == pytest.approx(3.35 + 0.3 * (first_seen - 3.35), abs=0.002)
        assert _reply(await r.turn("send", "and what about tomorrow morning"))
        assert r.last_prompt()["tokenizer"] == f"estimate {first:.2f} chars/token"
        assert r.last_prompt()["chars_per_token"] == first
        assert r.last_prompt()["total_tokens"] == r.total_with(CharRatioTokenizer(first))
        second = stored()
        assert abs(second - observed()) < abs(first - observed())  # closer still
        again = await r.engine.providers.get(r.engine.store.get_connection("c"))
        assert again is provider  # learning is not a new configuration
        await r.engine.aclose()
        reopened = Engine.open(Settings(data_dir=data_dir))
        record = reopened.store.get_connection("c")
        provider = await reopened.providers.get(record)
        assert prompting.pick_counting(record, provider).chars_per_token == second
        await reopened.aclose()


async def test_a_long_first_turn_goes_on_counting_next_turn(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(token_counts, "COUNT_TIMEOUT", 1.0)
    caplog.set_level(logging.WARNING, logger="pytavern.engine.token_counts")
    with rig(data_dir, monkeypatch, "llamacpp", stall_seconds=0.15) as r:
        for index in range(60):
            role = "user" if index % 2 else "assistant"
            text = f"old message number {index} about the tides"
            r.engine.store.append_message(r.chat_id, role=role, name="", text=text)
        r.plan.tokenize_fault = "stall"  # every count takes 0.15 s: 8 at a time, 1 s a turn
        assert _reply(await r.turn("send", "what happened then"))
        asked = [len(r.counted())]
        assert 0 < asked[0] < 60 and "estimated" in r.last_prompt()["tokenizer"]
        while r.last_prompt()["tokenizer"] != "backend" and len(asked) < 12:
            assert _reply(await r.turn("swipe"))
            asked.append(len(r.counted()))
        assert r.last_prompt()["tokenizer"] == "backend"
        assert r.last_prompt()["total_tokens"] == r.total_with(Words())
        assert all(b > a for a, b in itertools.pairwise(asked))  # asked every turn
        assert not caplog.records  # progress, not a failure
        await r.engine.aclose()


async def test_a_backend_without_the_endpoint_is_not_asked_again() -> None:
    plan = FaultPlan()
    with serve(kobold.create_app(plan, united=True)) as url:  # KoboldAI United: no /api/extra
        provider = create_provider(ConnectionConfig(name="k", api="kobold", url=url))
        counts = token_counts.RemoteCounts()
        assert counts.ready()
        assert not await counts.fill(provider, ["one two", "three"], 1.0)
        assert not counts.supported and not counts.ready() and len(counts.cache) == 0
        await provider.aclose()
