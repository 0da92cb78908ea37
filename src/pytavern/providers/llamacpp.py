"""llama.cpp's native server API: ``/completion`` (SSE), ``/tokenize``, ``/props``, ``/health``.

Stream frames are ``data: {"content": "...", "stop": false}``; the last has ``stop: true``
with ``stop_type`` and token counts. ``/health`` answers 503 while the model loads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from pytavern.errors import ProviderError, StreamProtocolError, UpstreamServerError
from pytavern.events import StreamEvent
from pytavern.providers._text import TextProvider, bearer
from pytavern.providers.embeddings import openai_embeddings
from pytavern.providers.spec import BackendSpec, Capabilities
from pytavern.types import ConnectionStatus, FinishReason, GenerationRequest, ModelInfo, Usage


def completion_body(prompt: str, params: dict[str, Any], *, stream: bool) -> dict[str, Any]:
    """Build a ``/completion`` body (``cache_prompt`` reuses the KV cache across turns)."""
    return {"prompt": prompt, "stream": stream, "cache_prompt": True, **params}


def parse_frame(data: Any) -> tuple[str, FinishReason | None, Usage | None]:
    """Return the text, finish reason (on the last frame) and usage of one frame."""
    if not isinstance(data, dict) or not isinstance(data.get("content", ""), str):
        raise ValueError("the frame has no content")
    if not data.get("stop"):
        return data.get("content", ""), None, None
    limited = data.get("stop_type") == "limit" or data.get("stopped_limit") is True
    usage = Usage(data.get("tokens_evaluated"), data.get("tokens_predicted"))
    return data.get("content", ""), "length" if limited else "stop", usage


def parse_props(body: Any) -> tuple[str | None, int | None]:
    """Return the model file name and context size from ``/props``."""
    if not isinstance(body, dict):
        return None, None
    path = body.get("model_path")
    name = str(path).replace("\\", "/").rsplit("/", 1)[-1] if path else None
    settings = body.get("default_generation_settings") or {}
    n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
    return name, n_ctx if isinstance(n_ctx, int) else None


class LlamaCppProvider(TextProvider):
    """llama.cpp server (``llama-server``) through its native API."""

    api = "llamacpp"
    sampler_backend = "llamacpp"
    default_url = "http://127.0.0.1:8080"
    strip_suffixes = ("/completion", "/v1")

    def headers(self) -> dict[str, str]:
        """``--api-key`` is a Bearer token."""
        return bearer(self.config.key)

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """A 503 from llama.cpp means the model is still loading."""
        if status == 503:
            return UpstreamServerError(
                "the model is still loading (HTTP 503)",
                provider=self.name,
                status_code=503,
                hint="Wait until llama.cpp has loaded the model, then try again",
            )
        return error

    async def probe(self) -> ConnectionStatus:
        """``/health`` (503 while loading), then ``/props`` for the model and context."""
        await self.http.request_json("GET", "/health")
        name, n_ctx = parse_props(await self.http.request_json("GET", "/props"))
        return ConnectionStatus(
            ok=True,
            summary=f"connected; model {name} (context {n_ctx})",
            model=name,
            models=(name,) if name else (),
            details={"context_size": n_ctx},
        )

    async def list_models(self) -> list[ModelInfo]:
        """The loaded model, from ``/props``."""
        name, n_ctx = parse_props(await self.http.request_json("GET", "/props"))
        return [ModelInfo(id=name, context_length=n_ctx)] if name else []

    async def embed(self, texts: Sequence[str], model: str) -> list[list[float]]:
        """``POST /v1/embeddings`` (the server runs with ``--embedding``)."""
        return await openai_embeddings(self.post_json, "/v1/embeddings", texts, model, self.name)

    async def count_tokens(self, text: str) -> int:
        """Count tokens with ``POST /tokenize``."""
        body = await self.http.request_json("POST", "/tokenize", json_body={"content": text})
        tokens = body.get("tokens") if isinstance(body, dict) else None
        if not isinstance(tokens, list):
            raise StreamProtocolError(
                "the tokenize answer has no tokens", provider=self.name, hint=None
            )
        return len(tokens)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Stream ``/completion``; the last frame says ``stop: true``."""
        prompt, params = self.prompt_and_params(request)
        body = completion_body(prompt, params, stream=request.stream)
        if not request.stream:
            answer = await self.http.request_json("POST", "/completion", json_body=body)
            for event in self._frame_events(answer):
                yield event
            return
        async with self.http.open("POST", "/completion", json_body=body) as response:
            frames = (data async for _event, data in self.sse_json(response))
            async for event in self.until_finished(frames, self._frame_events):
                yield event

    def _frame_events(self, data: Any) -> list[StreamEvent]:
        if isinstance(data, dict) and "error" in data:
            error = data["error"]
            code = error.get("code") if isinstance(error, dict) else None
            raise self.stream_error(data, code if isinstance(code, int) else None)
        return self.frame_events(data, parse_frame, "llama.cpp", self.config.model)


SPEC = BackendSpec(
    name="llamacpp",
    sampler_order_defaults="llamacpp",
    label="llama.cpp server",
    group="text",
    family="text",
    provider=LlamaCppProvider,
    default_url="http://127.0.0.1:8080",
    key_env="LLAMACPP_API_KEY",
    sampler_table="llamacpp",
    tokenizer="backend",
    capabilities=Capabilities(context_limit=True, token_counting=True),
)
