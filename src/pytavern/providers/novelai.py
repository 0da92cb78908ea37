"""NovelAI text generation: ``/ai/generate`` (``output``) and ``/ai/generate-stream`` (SSE).

Models ``clio-v1`` (on api.novelai.net), ``kayra-v1`` and ``llama-3-erato-v1`` (on
text.novelai.net); a connection URL overrides both hosts. ``check()`` reads the tier from
``/user/subscription``.

Stop strings, banned words and logit bias go to NovelAI as token-id arrays of the model's
own tokenizer (``_nai_tokens``, ``_nai_arrays``). pytavern also cuts the reply at the first
stop string itself: NovelAI returns the stop text, and a stop whose tokens differ in context
is still caught. Without the tokenizer files only that client-side cut remains.

The stream is ``event: newToken`` / ``data: {"token", "ptr", "final", "logprobs"}``; every
event's ``token`` is text (SillyTavern appends each), and ``final: true`` marks the last.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pydantic import Field

from pytavern.errors import ConfigError, MissingKeyError, StreamProtocolError
from pytavern.events import Finished, StreamEvent, TextDelta
from pytavern.providers import _nai_arrays, _nai_tokens
from pytavern.providers._chatml import prompt_and_stops
from pytavern.providers._samplers import TOKENIZED, map_samplers
from pytavern.providers._stops import StopMatcher
from pytavern.providers._text import TextProvider, bearer
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.spec import BackendSpec, Capabilities, HttpOptions
from pytavern.types import (
    ConnectionStatus,
    FinishReason,
    GenerationRequest,
    ModelInfo,
    SamplerSettings,
)

API_HOST = "https://api.novelai.net"
TEXT_HOST = "https://text.novelai.net"
MODELS = {"clio-v1": API_HOST, "kayra-v1": TEXT_HOST, "llama-3-erato-v1": TEXT_HOST}
MAX_RESPONSE = 150
"""NovelAI's cap on the reply length in tokens (longer requests are refused with 400)."""
TIERS = {0: "Paper", 1: "Tablet", 2: "Scroll", 3: "Opus"}
DEFAULT_MODEL = "llama-3-erato-v1"
ERATO_PREAMBLE = "<|startoftext|><|reserved_special_token81|>"
"""What SillyTavern puts before every Erato prompt."""
DEFAULT_ORDER = [1, 5, 0, 2, 3, 4]
"""NovelAI's default sampler order: top_k, typical_p, temperature, top_p, tfs, top_a."""


def parameters(params: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Complete NovelAI ``parameters`` from mapped samplers and connection options."""
    out: dict[str, Any] = {
        "use_string": True,
        "max_length": 150,
        "min_length": 1,
        "generate_until_sentence": True,
        "use_cache": False,
        "return_full_text": False,
        "prefix": options.get("prefix", "vanilla"),
        "order": DEFAULT_ORDER,
    }
    out.update(params)
    cap = int(options.get("max_length_cap", MAX_RESPONSE))
    out["max_length"] = max(1, min(int(out["max_length"]), cap))
    return out


def generate_body(prompt: str, model: str, params: dict[str, Any]) -> dict[str, Any]:
    """Build the ``/ai/generate`` body (Erato prompts start with ``ERATO_PREAMBLE``)."""
    if "erato" in model and not prompt.startswith("<|startoftext|>"):
        prompt = ERATO_PREAMBLE + prompt
    return {"input": prompt, "model": model, "parameters": params}


def token_parameters(
    encoder: _nai_tokens.Encoder, model: str, stops: list[str], sampling: SamplerSettings
) -> dict[str, Any]:
    """``stop_sequences``, ``bad_words_ids`` and ``logit_bias_exp`` as token ids."""
    out: dict[str, Any] = {}
    if stops:
        out["stop_sequences"] = _nai_arrays.stop_sequences(encoder, model, stops)
    if sampling.banned_tokens:
        out["bad_words_ids"] = _nai_arrays.bad_words_ids(encoder, sampling.banned_tokens)
    if sampling.logit_bias:
        out["logit_bias_exp"] = _nai_arrays.logit_bias_exp(encoder, sampling.logit_bias)
    return {key: value for key, value in out.items() if value}


def parse_token(data: Any) -> tuple[str, bool]:
    """Return the token and whether it is the final one, from one ``newToken`` event."""
    if not isinstance(data, dict) or not isinstance(data.get("token", ""), str):
        raise ValueError("the event has no token")
    return data.get("token", ""), bool(data.get("final", False))


class NovelAIProvider(TextProvider):
    """NovelAI's text models."""

    api = "novelai"
    sampler_backend = "novelai"
    default_url = TEXT_HOST

    def __init__(self, config: ConnectionConfig) -> None:
        if not config.key:
            raise MissingKeyError(
                "NovelAI needs an API key",
                hint="Store one with `pytavern connections add NAME --api novelai --key -` "
                "or set NOVELAI_API_KEY",
            )
        super().__init__(config)

    def headers(self) -> dict[str, str]:
        """Bearer auth with the persistent API token."""
        return bearer(self.config.key)

    @property
    def overridden(self) -> bool:
        """True when the connection names its own host (a proxy, or a test server)."""
        return bool(self.config.url) and self.http.base_url not in (TEXT_HOST, API_HOST)

    def host_for(self, model: str) -> str:
        """The host serving ``model`` (an overriding connection URL wins)."""
        if self.overridden:
            return self.http.base_url
        return MODELS.get(model, TEXT_HOST)

    @property
    def model(self) -> str:
        """The connection's model, else NovelAI's newest."""
        return self.config.model or DEFAULT_MODEL

    def supported_samplers(self) -> frozenset[str]:
        """Banned words and logit bias only when the model's tokenizer is installed."""
        names = super().supported_samplers()
        if _nai_tokens.available(self.model):
            return names
        return names - (TOKENIZED["novelai"] - {"stop"})

    async def count_tokens(self, text: str) -> int:
        """Count ``text``'s tokens with the connection model's own tokenizer."""
        encoder = await _nai_tokens.encoder_for(self.model)
        if encoder is None:
            raise ConfigError(
                f"no tokenizer for the NovelAI model {self.model!r} is installed",
                hint=f"Install NovelAI's tokenizer files: {_nai_tokens.INSTALL}",
            )
        return len(encoder.encode(text))

    async def list_models(self) -> list[ModelInfo]:
        """NovelAI has no model list endpoint; these are its current text models."""
        return [ModelInfo(id=name, context_length=8192) for name in MODELS]

    async def probe(self) -> ConnectionStatus:
        """Read the subscription tier (``/user/subscription``)."""
        host = self.http.base_url if self.overridden else API_HOST
        body = await self.http.request_json("GET", f"{host}/user/subscription")
        tier = body.get("tier") if isinstance(body, dict) else None
        active = bool(body.get("active")) if isinstance(body, dict) else False
        name = TIERS.get(tier, str(tier)) if isinstance(tier, int) else "unknown"
        model = self.model
        return ConnectionStatus(
            ok=active,
            summary=f"connected; NovelAI {name} subscription" + ("" if active else " (inactive)"),
            hint=None if active else "Renew the NovelAI subscription to generate text",
            model=model,
            models=tuple(MODELS),
            details={"tier": tier, "tier_name": name},
        )

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Stream ``newToken`` events, cut at the first stop string."""
        prompt, stops = prompt_and_stops(request)
        model = self.model_for(request) or DEFAULT_MODEL
        params = parameters(map_samplers("novelai", request.sampling), dict(self.options))
        encoder = await _nai_tokens.encoder_for(model)
        if encoder is not None:
            params.update(token_parameters(encoder, model, stops, request.sampling))
        body = generate_body(prompt, model, params)
        matcher = StopMatcher(stops)
        host = self.host_for(model)
        if not request.stream:
            answer = await self.http.request_json("POST", f"{host}/ai/generate", json_body=body)
            output = answer.get("output") if isinstance(answer, dict) else None
            if not isinstance(output, str):
                raise StreamProtocolError(
                    "the answer has no output", provider=self.name, hint="Check the URL"
                )
            text = matcher.feed(output) + matcher.flush()
            if text:
                yield TextDelta(text)
            yield Finished("stop_sequence" if matcher.stopped else "stop", model=model)
            return
        async for event in self._stream(host, body, matcher, model):
            yield event

    async def _stream(
        self, host: str, body: dict[str, Any], matcher: StopMatcher, model: str
    ) -> AsyncIterator[StreamEvent]:
        final = False
        async with self.http.open("POST", f"{host}/ai/generate-stream", json_body=body) as resp:
            async for event, data in self.sse_json(resp):
                if event.event == "error" or (isinstance(data, dict) and "error" in data):
                    raise self.stream_error(data.get("error") if isinstance(data, dict) else data)
                token, final = self._token(data)
                shown = matcher.feed(token)
                if shown:
                    yield TextDelta(shown)
                if matcher.stopped or final:
                    break
        if not (final or matcher.stopped):
            raise self.interrupted()
        rest = matcher.flush()
        if rest:
            yield TextDelta(rest)
        reason: FinishReason = "stop_sequence" if matcher.stopped else "stop"
        yield Finished(reason, model=model)

    def _token(self, data: Any) -> tuple[str, bool]:
        try:
            return parse_token(data)
        except ValueError as exc:
            raise StreamProtocolError(
                f"the stream is not NovelAI's ({exc})",
                provider=self.name,
                hint="What arrived was kept; check the URL",
            ) from None


class NovelAIOptions(HttpOptions):
    """NovelAI's connection options."""

    prefix: str = Field("vanilla", description="Module (prefix) to generate with.")
    max_length_cap: int = Field(
        MAX_RESPONSE, gt=0, description="Most tokens one reply may ask for (150 by tier)."
    )


SPEC = BackendSpec(
    name="novelai",
    sampler_defaults="none",
    label="NovelAI",
    group="novelai",
    family="text",
    provider=NovelAIProvider,
    options=NovelAIOptions,
    default_url=TEXT_HOST,
    key_env="NOVELAI_API_KEY",
    key_required=True,
    sampler_table="novelai",
    tokenizer="llama3",
    default_model=DEFAULT_MODEL,
    needs_model=True,
    capabilities=Capabilities(token_counting=True),
)
