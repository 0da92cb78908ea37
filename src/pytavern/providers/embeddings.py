"""Embeddings: texts as vectors, for finding documents by meaning (the Data Bank).

Three wire formats cover the servers users run:

- OpenAI's ``POST /embeddings`` (``{"model", "input": [...], "encoding_format": "float"}``
  -> ``{"data": [{"index", "embedding": [...]}]}``): OpenAI, OpenRouter, Mistral, every
  ``custom`` server (LM Studio, vLLM, TabbyAPI, LocalAI, llama.cpp's server started with
  ``--embedding``), through the connection's own base URL;
- llama.cpp's server, at ``/v1/embeddings`` of its root (same format);
- Ollama's ``POST /api/embed`` (``{"model", "input": [...]}`` -> ``{"embeddings": [...]}``).

and the ``local`` provider makes them in-process (``LocalProvider.embed``).

A provider that can embed has an ``embed(texts, model)`` coroutine; ``embed_texts`` sends
the texts in batches and checks what comes back (one vector per text, all of one size).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from pytavern.errors import ConfigError, StreamProtocolError

BATCH = 64
"""Texts per request (servers cap the inputs of one request; 64 suits all of them)."""

Vector = list[float]
PostJson = Callable[[str, Any], Awaitable[Any]]
"""Sends a JSON body to a path of the server and gives its JSON answer."""


class Embedder(Protocol):
    """A provider that turns texts into vectors."""

    name: str

    async def embed(self, texts: Sequence[str], model: str) -> list[Vector]:
        """One vector per text, in order."""
        ...


def can_embed(provider: object) -> bool:
    """Whether ``provider`` makes embeddings."""
    return callable(getattr(provider, "embed", None))


async def embed_texts(provider: object, texts: Sequence[str], model: str) -> list[Vector]:
    """``texts`` as vectors through ``provider`` (a ``ConfigError`` when it cannot embed)."""
    if not can_embed(provider):
        name = getattr(provider, "name", "this connection")
        raise ConfigError(
            f"{name} cannot make embeddings",
            hint="Pick the built-in model (local), an OpenAI-compatible connection (OpenAI, "
            "OpenRouter, a custom server such as LM Studio, vLLM or llama.cpp's server "
            "started with --embedding), llama.cpp or Ollama for the Data Bank's search by "
            "meaning",
        )
    embedder: Embedder = provider  # type: ignore[assignment]
    return await embedder.embed(texts, model)


async def openai_embeddings(
    post: PostJson, path: str, texts: Sequence[str], model: str, provider: str
) -> list[Vector]:
    """OpenAI's embeddings request for ``texts``, in batches."""

    async def one(batch: list[str]) -> list[Vector]:
        body: dict[str, Any] = {"input": batch, "encoding_format": "float"}
        if model:
            body["model"] = model
        return openai_vectors(await post(path, body), len(batch), provider)

    return await _in_batches(texts, one, provider)


async def ollama_embeddings(
    post: PostJson, texts: Sequence[str], model: str, provider: str
) -> list[Vector]:
    """Ollama's ``/api/embed`` for ``texts``, in batches."""
    if not model:
        raise ConfigError(
            f"{provider}: Ollama needs the embedding model's name",
            hint="Set the Data Bank's embedding model, e.g. nomic-embed-text "
            "(`ollama pull nomic-embed-text` first)",
        )

    async def one(batch: list[str]) -> list[Vector]:
        answer = await post("/api/embed", {"model": model, "input": batch})
        found = answer.get("embeddings") if isinstance(answer, dict) else None
        return _vectors(found, len(batch), provider)

    return await _in_batches(texts, one, provider)


async def _in_batches(
    texts: Sequence[str], one: Callable[[list[str]], Awaitable[list[Vector]]], provider: str
) -> list[Vector]:
    """``one`` over ``texts`` in batches of ``BATCH``; the vectors in order, of one size."""
    vectors: list[Vector] = []
    for start in range(0, len(texts), BATCH):
        vectors += await one(list(texts[start : start + BATCH]))
    return checked_sizes(vectors, provider)


def openai_vectors(answer: Any, expected: int, provider: str) -> list[Vector]:
    """The vectors of an OpenAI embeddings answer, in the order of the inputs."""
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list):
        raise _protocol_error(provider, "has no data list")
    items = [item for item in data if isinstance(item, dict)]
    if all(isinstance(item.get("index"), int) for item in items):
        items.sort(key=lambda item: item["index"])
    return _vectors([item.get("embedding") for item in items], expected, provider)


def _vectors(found: Any, expected: int, provider: str) -> list[Vector]:
    if not isinstance(found, list) or len(found) != expected:
        count = len(found) if isinstance(found, list) else 0
        raise _protocol_error(provider, f"holds {count} vectors for {expected} texts")
    vectors: list[Vector] = []
    for vector in found:
        if not isinstance(vector, list) or not vector:
            raise _protocol_error(provider, "holds a vector that is not a list of numbers")
        if not all(_is_number(x) for x in vector):
            raise _protocol_error(provider, "holds a vector that is not a list of numbers")
        vectors.append([float(x) for x in vector])
    return vectors


def _is_number(value: object) -> bool:
    """A finite int or float (JSON's NaN and infinities are no vector's part)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def checked_sizes(vectors: list[Vector], provider: str) -> list[Vector]:
    """``vectors`` when they all have one size."""
    if len({len(vector) for vector in vectors}) > 1:
        raise _protocol_error(provider, "holds vectors of different sizes")
    return vectors


def _protocol_error(provider: str, what: str) -> StreamProtocolError:
    return StreamProtocolError(
        f"the embeddings answer {what}",
        provider=provider,
        hint="Check that the URL is an embeddings server and the model makes embeddings "
        "(a chat model may not; llama.cpp's server needs --embedding)",
    )
