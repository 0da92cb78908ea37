"""OpenAI Chat Completions provider, for ``openai``, ``custom`` and every flavour.

A *flavour* is an OpenAI-compatible service that differs only by default URL, key
variable, label, default model and a few quirks: its module is one ``openai_flavour(...)``
call (see ``openrouter.py``) plus one line in the registry.

Base URL rule (all flavours): a trailing ``/chat/completions`` (or ``/completions``,
``/models``) is removed; then, if what is left is a bare host (no path at all), ``/v1`` is
added; any other path is kept as the user gave it. So ``http://h:8080``,
``http://h:8080/v1`` and ``http://h:8080/v1/chat/completions`` all mean
``http://h:8080/v1``, while ``https://h/api/openai`` stays as it is.

Options: ``custom`` takes ``extra_headers``
(dict), ``extra_body`` (dict merged into the body) and ``exclude_body`` (list of body keys
removed); it sends the extra samplers OpenAI-compatible servers commonly take (top_k, min_p,
top_a, repetition_penalty; drop any a server refuses with ``exclude_body``), and a server
without ``GET /models`` is checked with a 1-token request when a model is set. All take the
``_http`` timeout and retry options.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

import orjson
from pydantic import Field

from pytavern.errors import (
    ConfigError,
    ProviderError,
    StreamInterruptedError,
    UpstreamNotFoundError,
)
from pytavern.events import StreamEvent
from pytavern.providers import _openai_wire as wire
from pytavern.providers import get_spec
from pytavern.providers._chat import (
    JSON_ANSWER,
    ChatProvider,
    PlainTexts,
    merged_events,
    parse_json_event,
    require_key,
)
from pytavern.providers._sse import UNFRAMED_JSON, ServerSentEvent, is_done_data
from pytavern.providers.base import ConnectionConfig, generate, one_token_probe
from pytavern.providers.embeddings import openai_embeddings
from pytavern.providers.spec import (
    NO_EXTRAS,
    BackendSpec,
    Capabilities,
    CommonOptions,
    HttpOptions,
)
from pytavern.types import (
    ConnectionStatus,
    GenerationRequest,
    ModelInfo,
)


class CustomOptions(HttpOptions):
    """Options of a custom OpenAI-compatible server."""

    extra_headers: dict[str, str] = Field({}, description="Headers added to every request.")
    extra_body: dict[str, Any] = Field({}, description="Fields merged into every request body.")
    exclude_body: list[str] = Field(
        [], description="Body fields removed (samplers the server refuses)."
    )


def base_url_for(config: ConnectionConfig, default_url: str | None) -> str:
    """The normalised base URL of the connection (see the module docstring)."""
    url = config.url or default_url
    if not url:
        raise ConfigError(
            f"connection {config.name!r} ({config.api}) has no URL",
            hint=f"Give the server's URL: `pytavern connections add {config.name} "
            f"--api {config.api} --url http://HOST:PORT/v1`",
        )
    return wire.normalize_openai_url(url)


def build_headers(config: ConnectionConfig, spec: BackendSpec) -> dict[str, str]:
    """The headers every request carries: bearer key and the flavour's own."""
    headers: dict[str, str] = {}
    key = require_key(config, spec.key_env or "the key variable") if spec.key_required else None
    key = key or config.key
    if key:
        headers["Authorization"] = f"Bearer {key}"
    flavour = flavour_of(spec)
    if flavour.headers is not None:
        headers.update(flavour.headers(config))
    return headers


def flavour_of(spec: BackendSpec) -> wire.Flavour:
    """The OpenAI-compatible flavour a spec declares (``custom``'s when it declares none)."""
    return spec.flavour if isinstance(spec.flavour, wire.Flavour) else wire.CUSTOM


class OpenAICompatProvider(ChatProvider):
    """OpenAI Chat Completions over HTTP (``openai``, ``custom`` and every flavour)."""

    def __init__(self, config: ConnectionConfig) -> None:
        spec = get_spec(config.api)
        self.flavour = flavour_of(spec)
        self.api = config.api
        super().__init__(
            config,
            base_url=base_url_for(config, spec.default_url),
            headers=build_headers(config, spec),
        )

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """The flavour's advice added to an HTTP error (its key page, its usual fix)."""
        if self.flavour.refine_error is None:
            return error
        return self.flavour.refine_error(error, status, body)

    def supported_samplers(self) -> frozenset[str]:
        """The sampler fields sent for the connection's model."""
        return wire.supported_samplers(self.flavour, self.config.model)

    def request_params(self) -> dict[str, str] | None:
        """Query parameters every chat request carries (none; Azure adds ``api-version``)."""
        return None

    async def list_models(self) -> list[ModelInfo]:
        """``GET /models``."""
        return wire.parse_models(await self.http.request_json("GET", "models"))

    async def embed(self, texts: Sequence[str], model: str) -> list[list[float]]:
        """``POST /embeddings`` (``pytavern.providers.embeddings``)."""
        return await openai_embeddings(self._post_json, "embeddings", texts, model, self.name)

    async def _post_json(self, path: str, body: Any) -> Any:
        return await self.http.request_json(
            "POST", path, json_body=body, params=self.request_params()
        )

    async def check(self) -> ConnectionStatus:
        """List the models; a custom server without ``/models`` is tried with a 1-token reply."""
        status = await super().check()
        if status.ok or not self.flavour.probe_by_generating or not self.config.model:
            return status
        if status.details.get("kind") != "UpstreamNotFoundError":
            return status
        return await self._check_by_generating(status)

    async def _check_by_generating(self, failed: ConnectionStatus) -> ConnectionStatus:
        try:
            await generate(self, one_token_probe())
        except UpstreamNotFoundError:
            return failed
        except ProviderError as error:  # the chat route answered: its error says more
            return ConnectionStatus(
                ok=False, summary=error.message, hint=error.hint, details={"kind": error.kind}
            )
        return ConnectionStatus(
            ok=True,
            summary=f"{self.name}: the server answered a 1-token request "
            "(it has no model list at /models)",
            model=self.config.model,
        )

    async def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        model = self.model_for(request)
        body = wire.build_body(
            request, model, self.flavour, self.config.options, stream=request.stream
        )
        kept, answer_error = self.flavour.kept_fields, self.flavour.answer_error
        if not request.stream:
            data = await self.http.request_json(
                "POST", "chat/completions", json_body=body, params=self.request_params()
            )
            for event in wire.parse_reply(self.name, data, kept, answer_error):
                yield event
            return
        reader = ChunkReader(self.name, kept, answer_error)
        reads = self.sse_reads(
            "chat/completions",
            body,
            self.request_params(),
            is_last_data=is_done_data,
            unframed_json=True,
        )
        async with aclosing(reads) as opened:
            events = merged_events(opened, reader.parse, reader.ended, reader.plain_texts)
            async for event in events:
                yield event
        for event in reader.end():
            yield event


class ChunkReader:
    """Turns the SSE events of a Chat Completions stream into our events: the callbacks
    ``merged_events`` takes (``parse``, ``ended``, ``plain_texts``), then ``end``."""

    def __init__(
        self,
        provider: str,
        kept_fields: frozenset[str] | None,
        answer_error: wire.AnswerErrorHook | None = None,
    ) -> None:
        self.provider = provider
        self.kept_fields = kept_fields
        self.parser = wire.StreamParser(provider, kept_fields, answer_error)
        self.whole_reply = False
        # The fast path takes no chunk when fields are kept: every event goes to ``parse``.
        self.plain_texts: PlainTexts | None = None if kept_fields else self.parser.plain_texts

    def parse(self, sse: ServerSentEvent) -> list[StreamEvent] | str:
        """One SSE event's events (an ``SSEParser``): ``[DONE]`` ends the stream; a plain
        JSON answer (the server ignored ``stream``) is the whole reply; a JSON line sent
        outside SSE framing at the end of the body raises the error it carries."""
        parser, name = self.parser, self.provider
        if sse.event == JSON_ANSWER:
            self.whole_reply = parser.done = True
            data = parse_json_event(sse.data, name)
            return wire.parse_reply(name, data, self.kept_fields, parser.answer_error)
        if sse.event == UNFRAMED_JSON:
            return self._unframed(sse.data)
        data = sse.data.strip()
        if data == "[DONE]":
            parser.done = True
            return []
        return parser.take(parse_json_event(sse.data, name)) if data else []

    def _unframed(self, text: str) -> list[StreamEvent]:
        """A JSON line that ended the body outside SSE framing (Chutes' mid-reply error):
        the error it carries is raised; any other line is passed over (``end`` then says
        the stream was cut short)."""
        try:
            data = orjson.loads(text)
        except ValueError:
            return []
        failure = self.parser.error_of(data)
        if failure is not None:
            raise failure
        return []

    def ended(self) -> bool:
        """Whether the stream's last event was parsed (``[DONE]`` or a whole reply)."""
        return self.parser.done

    def end(self) -> list[StreamEvent]:
        """The stream's last events (usage, ``Finished``), or raise when it was cut short
        (no ``[DONE]``, or a ``finish_reason`` that says the server failed)."""
        if self.whole_reply:
            return []
        reason = self.parser.reason
        if reason in wire.FAILED_FINISH:
            raise StreamInterruptedError(
                f"the server ended the reply with an error (finish_reason {reason!r})",
                provider=self.provider,
                hint="What arrived was kept; continue or regenerate the reply",
            )
        return self.parser.end(done=self.parser.done)


def openai_flavour(
    name: str,
    label: str,
    *,
    default_url: str | None,
    key_env: str | None,
    flavour: wire.Flavour | None = None,
    options: type[CommonOptions] = HttpOptions,
    default_model: str | None = None,
    embedding_model: str | None = None,
    needs_url: bool = False,
    key_required: bool = True,
    capabilities: Capabilities = NO_EXTRAS,
) -> BackendSpec:
    """The spec of an OpenAI Chat Completions API differing only in what is declared here.

    A flavour module is this call and, when the service has quirks, a ``wire.Flavour``
    (samplers it takes, stop limit, header and body hooks) and an options model.
    """
    return BackendSpec(
        name=name,
        label=label,
        group="chat",
        family="chat",
        provider=OpenAICompatProvider,
        options=options,
        default_url=default_url,
        needs_url=needs_url,
        key_env=key_env,
        key_required=key_required,
        tokenizer="openai-bpe",
        default_model=default_model,
        embedding_model=embedding_model,
        needs_model=True,
        capabilities=capabilities,
        flavour=flavour or wire.Flavour(name, wire.EXTENDED_SAMPLERS),
    )


SPECS = (
    openai_flavour(
        "openai",
        "OpenAI",
        default_url="https://api.openai.com/v1",
        key_env="OPENAI_API_KEY",
        flavour=wire.OPENAI,
        default_model="gpt-4o-mini",
        embedding_model="text-embedding-3-small",
    ),
    openai_flavour(
        "custom",
        "Custom OpenAI-compatible",
        default_url=None,
        key_env=None,
        flavour=wire.CUSTOM,
        options=CustomOptions,
        needs_url=True,
        key_required=False,
    ),
)
