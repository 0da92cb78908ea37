"""Ollama's native API: ``/api/generate`` with ``raw: true`` (streamed NDJSON), ``/api/tags``.

Each line is ``{"response": "...", "done": false}``; the last has ``done: true``,
``done_reason`` and the token counts ``prompt_eval_count`` / ``eval_count``. Errors are
``{"error": "..."}``, as a body or as a line inside the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from pydantic import Field

from pytavern.errors import ProviderError, UpstreamNotFoundError
from pytavern.events import StreamEvent
from pytavern.providers._text import TextProvider
from pytavern.providers.embeddings import ollama_embeddings
from pytavern.providers.spec import BackendSpec, HttpOptions
from pytavern.types import ConnectionStatus, FinishReason, GenerationRequest, ModelInfo, Usage

DEFAULT_KEEP_ALIVE = "5m"
"""How long Ollama keeps the model loaded after a request (Ollama's own default)."""


def generate_body(
    prompt: str,
    options: dict[str, Any],
    *,
    model: str | None,
    stream: bool,
    keep_alive: Any = DEFAULT_KEEP_ALIVE,
    context_size: int | None = None,
) -> dict[str, Any]:
    """Build an ``/api/generate`` body: our own template, so ``raw: true``."""
    if context_size:
        options = {**options, "num_ctx": context_size}
    body: dict[str, Any] = {
        "model": model,
        "prompt": prompt,
        "stream": stream,
        "raw": True,
        "keep_alive": keep_alive,
    }
    if options:
        body["options"] = options
    return body


def parse_line(data: Any) -> tuple[str, FinishReason | None, Usage | None]:
    """Return the text, finish reason (on the last line) and usage of one NDJSON line."""
    if not isinstance(data, dict) or not isinstance(data.get("response", ""), str):
        raise ValueError("the line has no response")
    if not data.get("done"):
        return data.get("response", ""), None, None
    reason: FinishReason = "length" if data.get("done_reason") == "length" else "stop"
    usage = Usage(data.get("prompt_eval_count"), data.get("eval_count"))
    return data.get("response", ""), reason, usage


def parse_tags(body: Any) -> list[ModelInfo]:
    """Parse ``/api/tags`` into models."""
    models = body.get("models") if isinstance(body, dict) else None
    return [
        ModelInfo(id=str(item.get("name") or item.get("model")))
        for item in models or []
        if isinstance(item, dict) and (item.get("name") or item.get("model"))
    ]


class OllamaProvider(TextProvider):
    """Ollama through its native generate API."""

    api = "ollama"
    sampler_backend = "ollama"
    default_url = "http://127.0.0.1:11434"
    strip_suffixes = ("/generate", "/v1", "/api")

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """A 404 naming a model means it has not been pulled."""
        if status == 404 and "not found" in str(body):
            return UpstreamNotFoundError(
                error.message.removeprefix(f"{self.name}: "),
                provider=self.name,
                status_code=404,
                hint="Pull the model first (`ollama pull MODEL`), or pick one from "
                "`pytavern connections models NAME`",
            )
        return error

    async def list_models(self) -> list[ModelInfo]:
        """Return the pulled models (``/api/tags``)."""
        return parse_tags(await self.http.request_json("GET", "/api/tags"))

    async def embed(self, texts: Sequence[str], model: str) -> list[list[float]]:
        """``POST /api/embed`` with ``model`` (an embedding model such as nomic-embed-text)."""
        return await ollama_embeddings(self.post_json, texts, model, self.name)

    async def probe(self) -> ConnectionStatus:
        """Read the version and the pulled models."""
        version = await self.http.request_json("GET", "/api/version")
        models = tuple(m.id for m in await self.list_models())
        model = self.config.model or (models[0] if models else None)
        number = version.get("version") if isinstance(version, dict) else None
        return ConnectionStatus(
            ok=bool(models),
            summary=f"connected to Ollama {number}; model {model}"
            if models
            else "connected, but no model has been pulled",
            hint=None if models else "Pull one with `ollama pull MODEL`",
            model=model,
            models=models,
            details={"version": number},
        )

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Stream NDJSON lines until ``done: true``."""
        prompt, options = self.prompt_and_params(request)
        body = generate_body(
            prompt,
            options,
            model=self.model_for(request),
            stream=request.stream,
            keep_alive=self.options.get("keep_alive", DEFAULT_KEEP_ALIVE),
            context_size=request.context_size,
        )
        async with self.http.open("POST", "/api/generate", json_body=body) as response:
            async for event in self.until_finished(self.ndjson(response), self._line_events):
                yield event

    def _line_events(self, data: Any) -> list[StreamEvent]:
        if isinstance(data, dict) and "error" in data:
            raise self.stream_error(data["error"])
        model = data.get("model") if isinstance(data, dict) else None
        return self.frame_events(data, parse_line, "Ollama", model)


class OllamaOptions(HttpOptions):
    """Ollama's connection options."""

    keep_alive: str | int = Field(
        DEFAULT_KEEP_ALIVE,
        description="How long Ollama keeps the model loaded after a request ('5m', seconds, -1).",
    )


SPEC = BackendSpec(
    name="ollama",
    label="Ollama",
    group="text",
    family="text",
    provider=OllamaProvider,
    options=OllamaOptions,
    default_url="http://127.0.0.1:11434",
    sampler_table="ollama",
    needs_model=True,
    embedding_model="nomic-embed-text",
)
