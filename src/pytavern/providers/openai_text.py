"""OpenAI-compatible text completions (``/v1/completions``) and its flavours.

API types ``ooba`` (text-generation-webui), ``tabby`` (TabbyAPI), ``vllm``, ``mancer`` and
``dreamgen`` speak the same protocol; they differ in paths, auth headers, the model and
tokenize endpoints and the samplers they take, which the subclasses set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pytavern.errors import AuthError, BadRequestError, StreamProtocolError
from pytavern.events import Finished, StreamEvent, TextDelta, UsageEvent
from pytavern.providers._text import TextProvider, bearer
from pytavern.providers.spec import (
    NO_EXTRAS,
    BackendSpec,
    Capabilities,
    CommonOptions,
    HttpOptions,
)
from pytavern.types import ConnectionStatus, FinishReason, GenerationRequest, ModelInfo, Usage

DREAMGEN_STOPS = ("### User", "## User")
"""Stops SillyTavern always adds for DreamGen (its models echo card-style headings)."""


def completions_body(
    prompt: str, params: dict[str, Any], *, model: str | None, stream: bool
) -> dict[str, Any]:
    """Build a ``/v1/completions`` body."""
    body: dict[str, Any] = {"prompt": prompt, "stream": stream, **params}
    if model:
        body["model"] = model
    return body


def finish_reason(value: Any) -> FinishReason | None:
    """Map an OpenAI ``finish_reason`` onto ours."""
    if value in (None, ""):
        return None
    return "length" if value == "length" else "stop"


def parse_usage(body: Any) -> Usage | None:
    """Read ``usage`` (prompt/completion tokens) if the body has it."""
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return None
    return Usage(usage.get("prompt_tokens"), usage.get("completion_tokens"))


def parse_chunk(data: Any) -> tuple[str, FinishReason | None]:
    """Return the text and finish reason of one streamed chunk (choice 0 only)."""
    if not isinstance(data, dict):
        raise ValueError("the chunk is not an object")
    choices = data.get("choices") or []
    if not choices:
        return "", None
    choice = choices[0]
    text = choice.get("text") or ""
    if not isinstance(text, str):
        raise ValueError("choices[0].text is not a string")
    return text, finish_reason(choice.get("finish_reason"))


def parse_models(body: Any) -> list[ModelInfo]:
    """Parse an OpenAI ``{"data": [{"id"...}]}`` model list."""
    items = body.get("data") if isinstance(body, dict) else body
    return [
        ModelInfo(id=str(item["id"]), context_length=item.get("max_model_len"))
        for item in items or []
        if isinstance(item, dict) and "id" in item
    ]


def parse_mancer_models(body: Any) -> list[ModelInfo]:
    """Parse Mancer's ``{"data": [{"id", "name", "limits": {"context"}}]}``."""
    out = []
    for item in body.get("data") or [] if isinstance(body, dict) else []:
        if not isinstance(item, dict) or "id" not in item:
            continue
        limits = item.get("limits")
        context = limits.get("context") if isinstance(limits, dict) else None
        name = item.get("name")
        out.append(
            ModelInfo(
                id=str(item["id"]),
                name=name if isinstance(name, str) else None,
                context_length=context if isinstance(context, int) else None,
            )
        )
    return out


class OpenAITextProvider(TextProvider):
    """The OpenAI completions protocol; subclasses are the flavours."""

    api = "openai-text"
    sampler_backend = "vllm"
    strip_suffixes: tuple[str, ...] = ("/completions", "/v1")
    prefix = "/v1"
    models_path = "/v1/models"

    def headers(self) -> dict[str, str]:
        """Bearer auth when a key is set."""
        return bearer(self.config.key)

    async def list_models(self) -> list[ModelInfo]:
        """Return the models from the flavour's model list."""
        return parse_models(await self.http.request_json("GET", self.models_path))

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Stream ``choices[0].text``; the stream must end with ``[DONE]`` or a finish."""
        prompt, params = self.prompt_and_params(request)
        body = completions_body(
            prompt, params, model=self.model_for(request), stream=request.stream
        )
        body.update(self.extra_body(request))
        path = f"{self.prefix}/completions"
        if not request.stream:
            async for event in self._whole(path, body, request):
                yield event
            return
        reason: FinishReason | None = None
        ended = False
        async with self.http.open("POST", path, json_body=body) as response:
            async for _event, data in self.sse_json(response):
                if data is None:
                    ended = True
                    break
                usage = parse_usage(data)
                if usage is not None:
                    yield UsageEvent(usage)
                text, reason = self._chunk(data, reason)
                if text:
                    yield TextDelta(text)
        if not ended and reason is None:
            raise self.interrupted()
        yield Finished(reason or "stop", model=self.model_for(request))

    def extra_body(self, request: GenerationRequest) -> dict[str, Any]:
        """Flavour-specific fields added to every completions body."""
        return {}

    def _chunk(self, data: Any, previous: FinishReason | None) -> tuple[str, FinishReason | None]:
        if isinstance(data, dict) and ("error" in data or "detail" in data):
            raise self.stream_error(data.get("error") or data.get("detail"))
        try:
            text, reason = parse_chunk(data)
        except ValueError as exc:
            raise StreamProtocolError(
                f"the stream is not OpenAI completions ({exc})",
                provider=self.name,
                hint="What arrived was kept; check the URL and the API type",
            ) from None
        return text, reason or previous

    async def _whole(
        self, path: str, body: dict[str, Any], request: GenerationRequest
    ) -> AsyncIterator[StreamEvent]:
        answer = await self.http.request_json("POST", path, json_body=body)
        text, reason = self._chunk(answer, None)
        if text:
            yield TextDelta(text)
        usage = parse_usage(answer)
        if usage is not None:
            yield UsageEvent(usage)
        yield Finished(reason or "stop", model=self.model_for(request))


class OobaProvider(OpenAITextProvider):
    """text-generation-webui's OpenAI-compatible API."""

    api = "ooba"
    sampler_backend = "ooba"
    default_url = "http://127.0.0.1:5000"

    def extra_body(self, request: GenerationRequest) -> dict[str, Any]:
        """The context size goes in ``truncation_length`` (ooba cuts the prompt to it)."""
        return {"truncation_length": request.context_size} if request.context_size else {}

    async def probe(self) -> ConnectionStatus:
        """Ask ``/v1/internal/model/info`` for the loaded model."""
        info = await self.http.request_json("GET", "/v1/internal/model/info")
        model = info.get("model_name") if isinstance(info, dict) else None
        loaded = isinstance(model, str) and model not in ("", "None")
        return ConnectionStatus(
            ok=loaded,
            summary=f"connected; model {model}" if loaded else "connected, but no model loaded",
            hint=None if loaded else "Load a model in text-generation-webui, then test again",
            model=model if loaded else None,
            models=(model,) if loaded and isinstance(model, str) else (),
        )

    async def count_tokens(self, text: str) -> int:
        """Count tokens with ``/v1/internal/encode``."""
        body = await self.http.request_json("POST", "/v1/internal/encode", json_body={"text": text})
        return _length(self, body)


class TabbyProvider(OpenAITextProvider):
    """TabbyAPI: ``x-api-key`` auth, its own model list, admin model loading."""

    api = "tabby"
    sampler_backend = "tabby"
    default_url = "http://127.0.0.1:5000"
    models_path = "/v1/model/list"

    def headers(self) -> dict[str, str]:
        """Tabby reads ``x-api-key`` (and Bearer)."""
        key = self.config.key
        return {"x-api-key": key, **bearer(key)} if key else {}

    async def probe(self) -> ConnectionStatus:
        """Read the loaded model (``/v1/model``) and the model list."""
        try:
            current = await self.http.request_json("GET", "/v1/model")
        except BadRequestError:  # Tabby answers 400 when no model is loaded
            current = None
        model = current.get("id") if isinstance(current, dict) else None
        models = tuple(m.id for m in await self.list_models())
        return ConnectionStatus(
            ok=bool(model),
            summary=f"connected; model {model}" if model else "connected, but no model loaded",
            hint=None if model else "Load one with `load_model(name)` or in TabbyAPI's config",
            model=model,
            models=models,
        )

    async def count_tokens(self, text: str) -> int:
        """Count tokens with ``/v1/token/encode``."""
        body = await self.http.request_json("POST", "/v1/token/encode", json_body={"text": text})
        return _length(self, body)

    async def _require_admin(self) -> dict[str, str]:
        body = await self.http.request_json("GET", "/v1/auth/permission")
        if not isinstance(body, dict) or body.get("permission") != "admin":
            raise AuthError(
                "this key may not load or unload models",
                provider=self.name,
                hint="Use TabbyAPI's admin key (admin_key in api_tokens.yml) for this connection",
            )
        return {"x-admin-key": self.config.key} if self.config.key else {}

    async def load_model(self, name: str) -> None:
        """Load model ``name`` (``POST /v1/model/load``; needs the admin key).

        Tabby answers with an SSE stream of progress (``module``/``modules``/``status``)
        that ends with ``status: finished``; an ``error`` payload in it fails the load.
        """
        headers = await self._require_admin()
        finished = False
        async with self.http.open(
            "POST", "/v1/model/load", json_body={"name": name}, headers=headers
        ) as response:
            async for _event, data in self.sse_json(response):
                if isinstance(data, dict) and "error" in data:
                    raise self.stream_error(data["error"])
                finished = finished or (isinstance(data, dict) and data.get("status") == "finished")
        if not finished:
            raise self.interrupted()

    async def unload_model(self) -> None:
        """Unload the loaded model (``POST /v1/model/unload``; needs the admin key)."""
        headers = await self._require_admin()
        async with self.http.open("POST", "/v1/model/unload", headers=headers) as response:
            async for _chunk in self.http.iter_bytes(response):
                pass


class VllmProvider(OpenAITextProvider):
    """vLLM's OpenAI-compatible server."""

    api = "vllm"
    sampler_backend = "vllm"
    default_url = "http://127.0.0.1:8000"

    def extra_body(self, request: GenerationRequest) -> dict[str, Any]:
        """Ask for usage in the last streamed chunk."""
        return {"stream_options": {"include_usage": True}} if request.stream else {}

    async def count_tokens(self, text: str) -> int:
        """Count tokens with ``POST /tokenize``."""
        body = await self.http.request_json(
            "POST", "/tokenize", json_body={"model": self.config.model, "prompt": text}
        )
        count = body.get("count") if isinstance(body, dict) else None
        if isinstance(count, int):
            return count
        return _length(self, body)


class MancerProvider(OpenAITextProvider):
    """Mancer: ``/oai/v1`` paths and ``X-API-KEY`` (SillyTavern also sends Bearer)."""

    api = "mancer"
    sampler_backend = "mancer"
    default_url = "https://neuro.mancer.tech"
    strip_suffixes = ("/completions", "/v1", "/oai")
    prefix = "/oai/v1"
    models_path = "/oai/v1/models"

    def headers(self) -> dict[str, str]:
        """Mancer reads ``X-API-KEY`` (and Bearer)."""
        key = self.config.key
        return {"X-API-KEY": key, **bearer(key)} if key else {}

    async def list_models(self) -> list[ModelInfo]:
        """Mancer's models carry a display ``name`` and ``limits.context``."""
        return parse_mancer_models(await self.http.request_json("GET", self.models_path))


class DreamGenProvider(OpenAITextProvider):
    """DreamGen: ``/api/openai/v1`` paths."""

    api = "dreamgen"
    sampler_backend = "dreamgen"
    default_url = "https://dreamgen.com"
    strip_suffixes = ("/completions", "/v1", "/openai", "/api")
    prefix = "/api/openai/v1"
    models_path = "/api/openai/v1/models"

    def prompt_and_params(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        """Add ``### User`` and ``## User`` to the stops (as SillyTavern does for DreamGen)."""
        prompt, params = super().prompt_and_params(request)
        if params.get("stop"):
            params["stop"] = list(dict.fromkeys([*params["stop"], *DREAMGEN_STOPS]))
        return prompt, params

    async def list_models(self) -> list[ModelInfo]:
        """DreamGen's text models (its list also names image models, left out here)."""
        body = await self.http.request_json("GET", self.models_path)
        items = body.get("data") if isinstance(body, dict) else None
        text = [i for i in items or [] if isinstance(i, dict) and i.get("display_type") != "image"]
        return parse_models({"data": text})


def _length(provider: TextProvider, body: Any) -> int:
    if isinstance(body, dict):
        if isinstance(body.get("length"), int):
            return int(body["length"])
        if isinstance(body.get("tokens"), list):
            return len(body["tokens"])
    raise StreamProtocolError(
        "the tokenize answer has no token count",
        provider=provider.name,
        hint="Check the URL and the API type of this connection",
    )


__all__ = [
    "DreamGenProvider",
    "MancerProvider",
    "OobaProvider",
    "OpenAITextProvider",
    "TabbyProvider",
    "VllmProvider",
]

_COUNTS = Capabilities(token_counting=True)


def openai_text_flavour(
    name: str,
    label: str,
    *,
    default_url: str | None,
    key_env: str | None,
    provider: type[OpenAITextProvider] = OpenAITextProvider,
    sampler_table: str = "vllm",
    options: type[CommonOptions] = HttpOptions,
    default_model: str | None = None,
    needs_model: bool = True,
    key_required: bool = True,
    capabilities: Capabilities = NO_EXTRAS,
) -> BackendSpec:
    """The spec of an OpenAI completions API (``/v1/completions``, ``/v1/models``, bearer
    key) that differs only in what is declared here; a subclass of ``OpenAITextProvider``
    as ``provider`` adds paths or quirks."""
    return BackendSpec(
        name=name,
        label=label,
        group="text",
        family="text",
        provider=provider,
        options=options,
        default_url=default_url,
        needs_url=default_url is None,
        key_env=key_env,
        key_required=key_required,
        sampler_table=sampler_table,
        default_model=default_model,
        needs_model=needs_model,
        capabilities=capabilities,
    )


SPECS = (
    BackendSpec(
        name="ooba",
        label="text-generation-webui (Oobabooga)",
        sampler_order_defaults="ooba",
        group="text",
        family="text",
        provider=OobaProvider,
        default_url="http://127.0.0.1:5000",
        key_env="OOBA_API_KEY",
        sampler_table="ooba",
        tokenizer="backend",
        capabilities=_COUNTS,
    ),
    BackendSpec(
        name="tabby",
        label="TabbyAPI",
        group="text",
        family="text",
        provider=TabbyProvider,
        default_url="http://127.0.0.1:5000",
        key_env="TABBY_API_KEY",
        sampler_table="tabby",
        tokenizer="backend",
        capabilities=Capabilities(token_counting=True, load_unload=True),
    ),
    BackendSpec(
        name="vllm",
        label="vLLM",
        group="text",
        family="text",
        provider=VllmProvider,
        default_url="http://127.0.0.1:8000",
        key_env="VLLM_API_KEY",
        sampler_table="vllm",
        tokenizer="backend",
        capabilities=_COUNTS,
    ),
    BackendSpec(
        name="mancer",
        label="Mancer",
        group="text",
        family="text",
        provider=MancerProvider,
        default_url="https://neuro.mancer.tech",
        key_env="MANCER_API_KEY",
        key_required=True,
        sampler_table="mancer",
        needs_model=True,
    ),
    BackendSpec(
        name="dreamgen",
        label="DreamGen",
        group="text",
        family="text",
        provider=DreamGenProvider,
        default_url="https://dreamgen.com",
        key_env="DREAMGEN_API_KEY",
        key_required=True,
        sampler_table="dreamgen",
        needs_model=True,
    ),
)
