"""Embeddings (``pytavern.providers.embeddings``) against fakes of the real wire formats.

OpenAI's ``POST /v1/embeddings`` (the ``openai`` and ``custom`` connections), llama.cpp's
server at ``/v1/embeddings`` of its root (the ``llamacpp`` connection, and a ``custom`` one
at the same URL) and Ollama's ``POST /api/embed``: the fakes answer deterministic vectors
(``openai_fake.fake_vector``), so every answer can be checked against the texts sent.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import ollama
import openai
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from pytavern.errors import (
    AuthError,
    BadRequestError,
    ConfigError,
    RateLimitError,
    StreamProtocolError,
    UpstreamNotFoundError,
    UpstreamServerError,
)
from pytavern.providers.base import Provider
from pytavern.providers.embeddings import BATCH, can_embed, embed_texts
from tests.fakes import llamacpp, openai_fake
from tests.fakes import ollama as ollama_fake
from tests.fakes.openai_fake import DEFAULT_KEY, fake_vector
from tests.fakes.server import FaultPlan, serve
from tests.providers.chat_helpers import fake, provider_for

TEXTS = ["The cat sat on the mat.", "Quarterly revenue grew.", "The cat sat on the mat."]


@dataclass(frozen=True)
class Backend:
    """A kind of connection that embeds, and the fake that answers it."""

    factory: Callable[..., FastAPI]
    api: str
    key: str | None
    model: str
    path: str
    """Where the fake receives the embeddings requests."""
    openai_format: bool = True
    fake_options: tuple[tuple[str, Any], ...] = ()
    url_suffix: str = ""


BACKENDS = {
    "openai": Backend(openai_fake.create_app, "openai", DEFAULT_KEY, "text-embedding-3-small",
                      "/v1/embeddings"),
    "custom-openai": Backend(openai_fake.create_app, "custom", DEFAULT_KEY,
                             "text-embedding-3-large", "/v1/embeddings", url_suffix="/v1"),
    "custom-llamacpp": Backend(llamacpp.create_app, "custom", None, "", "/v1/embeddings",
                               fake_options=(("embeddings", True),)),
    "llamacpp": Backend(llamacpp.create_app, "llamacpp", None, "", "/v1/embeddings",
                        fake_options=(("embeddings", True),)),
    "ollama": Backend(ollama_fake.create_app, "ollama", None, "nomic-embed-text", "/api/embed",
                      openai_format=False),
}  # fmt: skip
OPENAI_FORMAT = [name for name, backend in BACKENDS.items() if backend.openai_format]


@dataclass
class Upstream:
    """A provider connected to a running fake."""

    provider: Provider
    plan: FaultPlan
    backend: Backend

    @property
    def model(self) -> str:
        """The embedding model the connection asks for."""
        return self.backend.model

    def bodies(self) -> list[Any]:
        """The JSON bodies of the embeddings requests the fake received, in order."""
        return [
            entry.get("body", entry.get("json"))
            for entry in self.plan.requests
            if entry["path"] == self.backend.path
        ]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """``embed_texts`` through the connection, with its embedding model."""
        return await embed_texts(self.provider, texts, self.model)


@asynccontextmanager
async def upstream(name: str, **options: Any) -> AsyncIterator[Upstream]:
    """The fake of backend ``name`` and a provider for it (``options``: connection options)."""
    backend = BACKENDS[name]
    with fake(backend.factory, **dict(backend.fake_options)) as (url, plan):
        provider = provider_for(backend.api, url + backend.url_suffix, backend.key, **options)
        try:
            yield Upstream(provider, plan, backend)
        finally:
            await provider.aclose()


def expected(texts: list[str]) -> list[list[float]]:
    """The vectors the fakes give ``texts``."""
    return [fake_vector(text) for text in texts]


def distinct_texts(count: int) -> list[str]:
    """``count`` texts whose fake vectors all differ (the word repeated 1..count times)."""
    texts = [" ".join(["note"] * (index + 1)) for index in range(count)]
    assert len({tuple(vector) for vector in expected(texts)}) == count
    return texts


def assert_one_line_without(error: BaseException, *secrets: str) -> None:
    """``error`` reads as one line and shows none of ``secrets``."""
    shown = str(error) + repr(getattr(error, "hint", ""))
    assert "\n" not in str(error)
    for secret in secrets:
        assert secret not in shown


# --- what is sent and what comes back ------------------------------------------------------


@pytest.mark.parametrize("name", list(BACKENDS))
async def test_one_vector_per_text_in_order(name: str) -> None:
    async with upstream(name) as up:
        assert can_embed(up.provider)
        vectors = await up.embed(TEXTS)
        assert vectors == expected(TEXTS)
        assert vectors[0] == vectors[2] != vectors[1]
        assert all(isinstance(x, float) for vector in vectors for x in vector)
        sent: dict[str, Any] = {"model": up.model, "input": TEXTS}
        if up.backend.openai_format:
            sent = {"input": TEXTS, "encoding_format": "float"}
            if up.model:
                sent["model"] = up.model
        assert up.bodies() == [sent]
        headers = up.plan.requests[-1]["headers"]
        if up.backend.key:
            assert headers["authorization"] == f"Bearer {up.backend.key}"
        else:
            assert "authorization" not in headers


@pytest.mark.parametrize("name", ["custom-llamacpp", "llamacpp"])
@pytest.mark.parametrize("model", ["", "nomic-embed-text-v1.5"])
async def test_the_model_is_sent_and_left_out_when_empty(name: str, model: str) -> None:
    async with upstream(name) as up:
        await embed_texts(up.provider, ["hello"], model)
        [body] = up.bodies()
        assert body.get("model", "") == model and ("model" in body) == bool(model)


async def test_openai_itself_refuses_a_request_without_model() -> None:
    """OpenAI needs a model (servers of one model do not): its refusal is passed on."""
    async with upstream("openai") as up:
        with pytest.raises(BadRequestError, match="you must provide a model parameter"):
            await embed_texts(up.provider, ["hello"], "")
        assert "model" not in up.bodies()[0]


@pytest.mark.parametrize("name", OPENAI_FORMAT)
async def test_vectors_are_put_in_input_order_by_index(name: str) -> None:
    texts = distinct_texts(5)
    async with upstream(name) as up:
        up.plan.arm("reversed")
        assert await up.embed(texts) == expected(texts)
        assert len(up.bodies()) == 1


@pytest.mark.parametrize("name", list(BACKENDS))
async def test_many_texts_go_in_batches(name: str) -> None:
    texts = distinct_texts(2 * BATCH + 22)
    async with upstream(name) as up:
        if up.backend.openai_format:
            up.plan.arm("reversed", "reversed", "reversed")
        vectors = await up.embed(texts)
        assert vectors == expected(texts)
        sent = [body["input"] for body in up.bodies()]
        assert [len(batch) for batch in sent] == [BATCH, BATCH, 22]
        assert [text for batch in sent for text in batch] == texts


@pytest.mark.parametrize("name", list(BACKENDS))
async def test_no_texts_no_request(name: str) -> None:
    async with upstream(name) as up:
        assert await up.embed([]) == []
        assert up.bodies() == []


async def test_ollama_needs_the_embedding_model() -> None:
    async with upstream("ollama") as up:
        with pytest.raises(ConfigError) as caught:
            await embed_texts(up.provider, TEXTS, "")
        assert "test-ollama" in str(caught.value)
        assert caught.value.hint and "nomic-embed-text" in caught.value.hint
        assert up.plan.requests == []


# --- answers that are not vectors -----------------------------------------------------------

WRONG_ANSWERS = {
    "short": "holds 2 vectors for 3 texts",
    "mixed_sizes": "holds vectors of different sizes",
    "not_numbers": "holds a vector that is not a list of numbers",
    "per_token": "holds a vector that is not a list of numbers",
}


@pytest.mark.parametrize("name", list(BACKENDS))
@pytest.mark.parametrize("fault", list(WRONG_ANSWERS))
async def test_a_wrong_answer_is_a_protocol_error(name: str, fault: str) -> None:
    async with upstream(name) as up:
        up.plan.arm(fault)
        with pytest.raises(StreamProtocolError) as caught:
            await up.embed(TEXTS)
        error = caught.value
        assert WRONG_ANSWERS[fault] in error.message
        assert error.provider == f"test-{up.backend.api}" and error.provider in str(error)
        assert error.hint and "embeddings" in error.hint
        assert_one_line_without(error)
        assert up.bodies()[0]["input"] == TEXTS


@pytest.mark.parametrize("name", list(BACKENDS))
async def test_an_answer_without_vectors_is_a_protocol_error(name: str) -> None:
    async with upstream(name) as up:
        up.plan.arm("no_data")
        with pytest.raises(StreamProtocolError, match="embeddings answer") as caught:
            await up.embed(TEXTS)
        assert caught.value.hint


@pytest.mark.parametrize("name", list(BACKENDS))
async def test_vectors_of_another_size_in_a_later_batch_are_refused(name: str) -> None:
    texts = distinct_texts(BATCH + 1)
    async with upstream(name) as up:
        up.plan.arm("none", "small_dims")  # the first batch is right; the second is not
        with pytest.raises(StreamProtocolError, match="different sizes"):
            await up.embed(texts)
        assert len(up.bodies()) == 2


# --- refusals: the errors the shared HTTP layer maps ----------------------------------------


async def test_a_wrong_key_is_an_auth_error() -> None:
    secret = "sk-wrong-embedding-key-0123456789"
    with fake(openai_fake.create_app) as (url, _plan):
        provider = provider_for("openai", url, secret, max_retries=0)
        with pytest.raises(AuthError) as caught:
            await embed_texts(provider, TEXTS, "text-embedding-3-small")
        await provider.aclose()
    error = caught.value
    assert error.status_code == 401 and "Incorrect API key provided" in error.message
    assert "test-openai" in str(error) and error.hint
    assert_one_line_without(error, secret)


async def test_a_key_the_server_quotes_is_hidden() -> None:
    """Some servers put the whole key they refused into their message."""
    secret = "sk-quoted-by-the-server-0123456789"
    app = FastAPI()

    @app.post("/v1/embeddings")
    async def refuse(request: Request) -> JSONResponse:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        body = {"error": {"message": f"API key {given} is not valid", "type": "auth"}}
        return JSONResponse(body, status_code=401)

    with serve(app) as url:
        provider = provider_for("custom", url, secret, max_retries=0)
        with pytest.raises(AuthError) as caught:
            await embed_texts(provider, TEXTS, "m")
        await provider.aclose()
    assert "is not valid" in caught.value.message and "***" in caught.value.message
    assert_one_line_without(caught.value, secret)


async def test_an_unknown_model_is_not_found() -> None:
    async with upstream("openai", max_retries=0) as up:
        with pytest.raises(UpstreamNotFoundError) as caught:
            await embed_texts(up.provider, TEXTS, "no-such-embedder")
    error = caught.value
    assert error.status_code == 404
    assert "The model `no-such-embedder` does not exist" in error.message
    assert_one_line_without(error, DEFAULT_KEY)


async def test_rate_limited_with_retry_after() -> None:
    async with upstream("openai", max_retries=0) as up:
        up.plan.arm("429")
        with pytest.raises(RateLimitError) as caught:
            await up.embed(TEXTS)
        assert len(up.bodies()) == 1
    error = caught.value
    assert error.retry_after == 1.0 and "Rate limit reached" in error.message
    assert error.hint and "test-openai" in str(error)
    assert_one_line_without(error, DEFAULT_KEY)


async def test_a_rate_limit_is_waited_out_and_retried() -> None:
    async with upstream("openai", retry_max_delay=0.05) as up:
        up.plan.arm("429")
        assert await up.embed(TEXTS) == expected(TEXTS)
        assert len(up.bodies()) == 2


@pytest.mark.parametrize("name", list(BACKENDS))
async def test_a_server_failure_is_an_upstream_server_error(name: str) -> None:
    async with upstream(name, max_retries=0) as up:
        up.plan.arm("500")
        with pytest.raises(UpstreamServerError) as caught:
            await up.embed(TEXTS)
    error = caught.value
    assert error.status_code == 500 and "HTTP 500" in error.message
    assert ("Internal failure" if name.endswith("openai") else "Internal server error") in str(
        error
    )
    assert_one_line_without(error, DEFAULT_KEY)


async def test_ollama_model_not_pulled() -> None:
    async with upstream("ollama", max_retries=0) as up:
        with pytest.raises(UpstreamNotFoundError) as caught:
            await embed_texts(up.provider, TEXTS, "mxbai-embed-large")
    error = caught.value
    assert 'model "mxbai-embed-large" not found, try pulling it first' in error.message
    assert error.status_code == 404 and error.hint and "ollama pull" in error.hint


async def test_llama_cpp_server_without_embeddings() -> None:
    with fake(llamacpp.create_app) as (url, plan):
        provider = provider_for("llamacpp", url, None)
        with pytest.raises(UpstreamServerError) as caught:
            await embed_texts(provider, TEXTS, "")
        await provider.aclose()
    assert caught.value.status_code == 501 and "Start it with `--embeddings`" in str(caught.value)
    assert len(plan.requests) == 1  # 501 is not retried


async def test_llama_cpp_server_api_key() -> None:
    key = "llama-secret-key-0123"
    with fake(llamacpp.create_app, key=key, embeddings=True) as (url, _plan):
        refused = provider_for("llamacpp", url, "wrong-key-9876543210", max_retries=0)
        with pytest.raises(AuthError, match="Invalid API Key"):
            await embed_texts(refused, TEXTS, "")
        await refused.aclose()
        provider = provider_for("llamacpp", url, key)
        assert await embed_texts(provider, TEXTS, "") == expected(TEXTS)
        await provider.aclose()


# --- connections that cannot embed ----------------------------------------------------------


@pytest.mark.parametrize(("api", "key"), [("kobold", None), ("claude", "sk-ant-fake-0123456789")])
async def test_a_connection_that_cannot_embed(api: str, key: str | None) -> None:
    provider = provider_for(api, "http://127.0.0.1:9", key, model="m")
    assert not can_embed(provider)
    with pytest.raises(ConfigError) as caught:
        await embed_texts(provider, TEXTS, "m")
    await provider.aclose()
    assert f"test-{api} cannot make embeddings" in str(caught.value)
    assert caught.value.hint and "Ollama" in caught.value.hint


# --- the fakes speak the real formats: the official clients read them ----------------------


def test_openai_sdk_reads_the_fake_embeddings() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        client = openai.OpenAI(api_key=DEFAULT_KEY, base_url=f"{url}/v1", max_retries=0)
        answer = client.embeddings.create(
            model="text-embedding-3-small", input=TEXTS, encoding_format="float"
        )
        assert [item.embedding for item in answer.data] == expected(TEXTS)
        assert [item.index for item in answer.data] == [0, 1, 2]
        assert answer.usage.prompt_tokens == sum(len(t.split()) for t in TEXTS)
        # unless told, the SDK asks for base64 float32 and decodes it
        default = client.embeddings.create(model="text-embedding-3-small", input=TEXTS)
        assert plan.requests[-1]["body"]["encoding_format"] == "base64"
        assert [item.embedding for item in default.data] == expected(TEXTS)
        with pytest.raises(openai.NotFoundError):
            client.embeddings.create(model="gpt-nope", input=TEXTS)
        plan.arm("429")
        with pytest.raises(openai.RateLimitError):
            client.embeddings.create(model="text-embedding-3-small", input=TEXTS)


def test_ollama_client_reads_the_fake_embeddings() -> None:
    with fake(ollama_fake.create_app) as (url, _plan):
        client = ollama.Client(host=url)
        answer = client.embed(model="nomic-embed-text", input=TEXTS)
        assert [list(vector) for vector in answer.embeddings] == expected(TEXTS)
        assert answer.prompt_eval_count == sum(len(t.split()) for t in TEXTS)
        with pytest.raises(ollama.ResponseError) as caught:
            client.embed(model="not-pulled", input=TEXTS)
        assert caught.value.status_code == 404 and "try pulling it first" in caught.value.error


def test_fake_vectors_are_deterministic_counts() -> None:
    assert fake_vector("a b a") == fake_vector("A  b a") != fake_vector("a b")
    assert sum(fake_vector("one two three")) == 3.0
    assert math.fsum(fake_vector("")) == 0.0 and len(fake_vector("x")) == 16
