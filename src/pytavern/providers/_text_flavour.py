"""Base of the hosted text-completion flavours (TogetherAI, Featherless, Infermatic...).

Each flavour module subclasses ``TextFlavourProvider`` (itself an ``OpenAITextProvider``)
and declares what differs: its service name, the page where its keys are made, advice for
a missing model or a rate limit. This class adds what they all need on top of the plain
OpenAI completions protocol:

- advice naming the service (the key page on 401/403, the model list on 404...), which
  ``connections test`` shows as its hint;
- the key never in an error (scrubbed from messages and hints);
- a model chosen when the connection names none and the service needs one: the spec's
  default model, else the first model the service lists (once per provider).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from pytavern.errors import (
    AuthError,
    BadRequestError,
    ProviderError,
    RateLimitError,
    UpstreamNotFoundError,
)
from pytavern.events import StreamEvent
from pytavern.providers._chatml import CHATML_STOP
from pytavern.providers._http_errors import scrub
from pytavern.providers.openai_text import OpenAITextProvider
from pytavern.types import ConnectionStatus, FinishReason, GenerationRequest


class TextFlavourProvider(OpenAITextProvider):
    """An OpenAI-completions service with advice of its own and a model chosen for it."""

    service: str = ""
    """The service's name as its users know it (``TogetherAI``)."""
    key_page: str | None = None
    """Where the service's API keys are made (``None``: a self-hosted server)."""
    model_advice: str = "Pick one of the models `pytavern connections models NAME` lists"
    """How to fix a model the service does not know."""
    rate_advice: str = "Wait a moment and try again, or check the plan and quota of this key"
    """How to live with the service's rate limit."""
    needs_model: bool = False
    """The service refuses a request without ``model``."""
    default_model: str | None = None
    """The model used when the connection names none."""
    stop_limit: int | None = None
    """The most stop strings the service takes (the rest are left out)."""

    _chosen_model: str | None = None

    def key_advice(self) -> str:
        """How to fix a refused key, naming the service's key page."""
        store = f"`pytavern connections add {self.name} --api {self.api} --key -`"
        if self.key_page:
            return f"{self.said_by()} refused the key: make one at {self.key_page}, then {store}"
        return f"{self.said_by()} refused the key: store the server's key with {store}"

    def said_by(self) -> str:
        """The service's name at the start of a sentence."""
        return self.service[:1].upper() + self.service[1:]

    def add_with_model(self) -> str:
        """The command that names a model for this connection."""
        return (
            f"Name a model: `pytavern connections add {self.name} --api {self.api} "
            "--model MODEL` (with the same URL and key)"
        )

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """The service's own advice for a refused key, an unknown model or a rate limit."""
        if isinstance(error, AuthError):
            error.hint = self.key_advice()
        elif isinstance(error, UpstreamNotFoundError):
            where = f" ({self.service}: {self.default_url})" if self.default_url else ""
            error.hint = f"Check the URL{where} and the model. {self.model_advice}"
        elif isinstance(error, RateLimitError):
            error.hint = self.rate_advice
        return scrub(error, self.config.key)

    def prompt_and_params(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        """The prompt and samplers, the stop list cut to ``stop_limit``."""
        prompt, params = super().prompt_and_params(request)
        if self.stop_limit is not None and params.get("stop"):
            params["stop"] = limit_stops(params["stop"], self.stop_limit)
        return prompt, params

    def model_for(self, request: GenerationRequest) -> str | None:
        """The request's model, else the connection's, else the default or chosen one."""
        return request.model or self.config.model or self.default_model or self._chosen_model

    def _chunk(self, data: Any, previous: FinishReason | None) -> tuple[str, FinishReason | None]:
        """A bare vLLM-style ``{"object": "error"}`` frame is an error too."""
        if isinstance(data, dict) and data.get("object") == "error":
            raise self.stream_error(data)
        return super()._chunk(data, previous)

    async def choose_model(self, request: GenerationRequest) -> None:
        """When the service needs a model and none is named, take the first it lists."""
        if not self.needs_model or self.model_for(request):
            return
        models = await self.list_models()
        if not models:
            raise BadRequestError(
                f"{self.said_by()} needs a model and lists none for this key",
                provider=self.name,
                hint=f"{self.add_with_model()}. {self.model_advice}",
            )
        self._chosen_model = models[0].id

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Stream with a model chosen when needed; errors never carry the key."""
        try:
            await self.choose_model(request)
            async for event in super().stream(await self.prepare(request)):
                yield event
        except ProviderError as error:
            raise scrub(error, self.config.key) from None

    async def prepare(self, request: GenerationRequest) -> GenerationRequest:
        """The request as the flavour sends it (a flavour may rewrite samplers here)."""
        return request

    async def probe(self) -> ConnectionStatus:
        """List the models; a service that needs a model and has none fails with advice."""
        status = await super().probe()
        if self.needs_model and not (status.model or self.default_model):
            return ConnectionStatus(
                ok=False,
                summary=f"connected, but {self.service} lists no model to use",
                hint=f"{self.add_with_model()}. {self.model_advice}",
            )
        if status.model is None and self.default_model:
            status = replace(
                status, summary=f"connected; model {self.default_model}", model=self.default_model
            )
        return status

    async def check(self) -> ConnectionStatus:
        """``TextProvider.check`` with the key scrubbed from what it reports."""
        status = await super().check()
        key = self.config.key
        if not key or len(key) < 4:
            return status
        hint = status.hint.replace(key, "***") if status.hint else None
        return replace(status, summary=status.summary.replace(key, "***"), hint=hint)


def limit_stops(stops: list[str], limit: int) -> list[str]:
    """At most ``limit`` of ``stops``: the prompt format's own end marker first (without
    it the reply runs on into the next turn), then the user's in their order."""
    own = [stop for stop in stops if stop in CHATML_STOP]
    rest = [stop for stop in stops if stop not in CHATML_STOP]
    return [*own, *rest][:limit]
