"""Aphrodite Engine (PygmalionAI): a self-hosted OpenAI-compatible completions server.

Auth by ``X-API-KEY`` (SillyTavern also sends Bearer; Aphrodite takes either). Its
completions take Aphrodite's samplers (``_samplers.py``, table ``aphrodite``): dynamic
temperature as ``dynatemp_min`` / ``dynatemp_max``, DRY with ``dry_range`` and a list of
breakers, and banned tokens as ``custom_token_bans``, an array of ints: entries given as
ids (``123`` or ``[1, 2]``) go as they are, text entries are turned into ids with the
server's own tokenizer (``POST /v1/tokenize``) first. ``model`` is required: the served
model is used when the connection names none. Errors are Aphrodite's
``{"object": "error", "message", "type", "code"}``; a wrong key gets 401
``{"error": "Unauthorized"}``.
"""

from __future__ import annotations

from dataclasses import replace

from pytavern.errors import StreamProtocolError
from pytavern.providers._samplers import token_ids
from pytavern.providers._text import bearer
from pytavern.providers._text_flavour import TextFlavourProvider
from pytavern.providers.openai_text import parse_models
from pytavern.providers.spec import BackendSpec, Capabilities
from pytavern.types import GenerationRequest, ModelInfo


class AphroditeProvider(TextFlavourProvider):
    """Aphrodite Engine's ``/v1/completions``."""

    api = "aphrodite"
    sampler_backend = "aphrodite"
    default_url = "http://127.0.0.1:2242"
    service = "Aphrodite"
    model_advice = "Name the model Aphrodite serves (`pytavern connections models NAME`)"
    needs_model = True

    def key_advice(self) -> str:
        """Aphrodite's keys are the server's own (``--api-keys`` / APHRODITE_API_KEY)."""
        return (
            "Aphrodite refused the key: use the one the server was started with "
            "(`--api-keys` or APHRODITE_API_KEY), stored with "
            f"`pytavern connections add {self.name} --api aphrodite --key -`"
        )

    def headers(self) -> dict[str, str]:
        """``X-API-KEY`` and Bearer when a key is set."""
        key = self.config.key
        return {"X-API-KEY": key, **bearer(key)} if key else {}

    async def list_models(self) -> list[ModelInfo]:
        """The served models (``/v1/models``, with ``max_model_len``)."""
        return parse_models(await self.http.request_json("GET", self.models_path))

    async def count_tokens(self, text: str) -> int:
        """Count tokens with ``POST /v1/tokenize``."""
        return len(await self.tokenize(text, special=True))

    async def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        """The server tokenizer's ids for ``text`` (``special``: with BOS and the like)."""
        body = {"model": await self._model(), "prompt": text, "add_special_tokens": special}
        answer = await self.http.request_json("POST", "/v1/tokenize", json_body=body)
        tokens = answer.get("tokens") if isinstance(answer, dict) else None
        if not isinstance(tokens, list):
            raise StreamProtocolError(
                "the tokenize answer has no tokens",
                provider=self.name,
                hint="Check that the URL is Aphrodite's and the API type is aphrodite",
            )
        return [int(t) for t in tokens]

    async def prepare(self, request: GenerationRequest) -> GenerationRequest:
        """Banned text turned into token ids (Aphrodite bans ids only)."""
        bans = request.sampling.banned_tokens
        if not bans or all(token_ids(entry) is not None for entry in bans):
            return request
        entries = []
        for entry in bans:
            if token_ids(entry) is not None:
                entries.append(entry)
                continue
            ids = await self.tokenize(entry.strip().strip('"'))
            entries.append(str(ids))
        sampling = request.sampling.model_copy(update={"banned_tokens": entries})
        return replace(request, sampling=sampling)

    async def _model(self) -> str | None:
        """The connection's model, else the first served one (remembered)."""
        if not (self.config.model or self._chosen_model):
            models = await self.list_models()
            self._chosen_model = models[0].id if models else None
        return self.config.model or self._chosen_model


SPEC = BackendSpec(
    name="aphrodite",
    label="Aphrodite Engine",
    group="text",
    family="text",
    provider=AphroditeProvider,
    default_url="http://127.0.0.1:2242",
    key_env="APHRODITE_API_KEY",
    sampler_table="aphrodite",
    tokenizer="backend",
    needs_model=True,
    capabilities=Capabilities(token_counting=True, context_limit=True),
)
