"""Google Vertex AI (API type ``vertex``): Gemini's wire on Vertex's URLs and credentials.

Two ways in, chosen by the stored key:

- **express mode**: an API key from Vertex AI Studio; requests go to
  ``https://aiplatform.googleapis.com/v1/publishers/google/models/{model}:{method}?key=KEY``;
- **service account**: the key is a service-account JSON (or option ``credentials_path``
  names the file, or ``GOOGLE_APPLICATION_CREDENTIALS`` does); requests go to
  ``https://{region}-aiplatform.googleapis.com/v1/projects/{project}/locations/{region}/
  publishers/google/models/{model}:{method}`` with a bearer token from a signed JWT
  (``_vertex_auth``), cached until it expires.

The body and the answers are Gemini's (``_gemini_wire``). Vertex has no list of the
publisher's models for these keys, so the list is the connection's model and ``connections
test`` counts the tokens of one word with it (``:countTokens``), which proves the key, the
project, the region and the model without generating. Options: ``project`` (default: the
key's ``project_id``), ``region`` (default ``us-central1``; ``global`` uses
``aiplatform.googleapis.com``), ``credentials_path``, Gemini's ``safety_threshold`` and
``include_thoughts``. A connection URL replaces the host (for a proxy or private endpoint).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import Field

from pytavern.errors import AuthError, ConfigError, MissingKeyError, ProviderError
from pytavern.events import StreamEvent
from pytavern.providers import _gemini_wire as gemini
from pytavern.providers import _vertex_auth as auth
from pytavern.providers._chat import (
    JSON_ANSWER,
    ChatProvider,
    ensure_api_answer,
    parse_json_event,
    token_count,
)
from pytavern.providers._http_config import normalize_base_url
from pytavern.providers._http_errors import scrub
from pytavern.providers._sse import ServerSentEvent, iter_sse
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.gemini import GeminiOptions
from pytavern.providers.spec import BackendSpec, Capabilities
from pytavern.types import ConnectionStatus, GenerationRequest, ModelInfo

KEY_ENV = "VERTEX_API_KEY"
DEFAULT_MODEL = "gemini-2.5-flash"
EXPRESS_HOST = "https://aiplatform.googleapis.com"
EXPRESS_KEYS = "Vertex AI Studio > Settings > API keys (console.cloud.google.com/vertex-ai)"


class VertexOptions(GeminiOptions):
    """Vertex AI's connection options (Gemini's, plus where and who)."""

    project: str | None = Field(
        None, description="Google Cloud project ID (default: the service account's)."
    )
    region: str = Field("us-central1", description="Vertex AI location (or `global`).")
    credentials_path: str | None = Field(
        None, description="Path of a service-account JSON key (instead of a stored key)."
    )


def host_for(region: str) -> str:
    """The regional Vertex AI host (``global`` has none of its own)."""
    return EXPRESS_HOST if region == "global" else f"https://{region}-aiplatform.googleapis.com"


def credentials(config: ConnectionConfig) -> str:
    """The stored key, else the JSON file named by option ``credentials_path`` or by
    ``GOOGLE_APPLICATION_CREDENTIALS``."""
    if config.key:
        return config.key
    path = config.options.get("credentials_path") or os.environ.get(
        "GOOGLE_APPLICATION_CREDENTIALS"
    )
    if not path:
        raise MissingKeyError(
            f"connection {config.name!r} (vertex) has no credentials",
            hint=f"Store an express-mode key from {EXPRESS_KEYS} or a service-account JSON "
            f"key with `pytavern connections add {config.name} --api vertex --key -`, "
            "or give the JSON's path with --option credentials_path=PATH",
        )
    try:
        return Path(str(path)).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"connection {config.name!r}: cannot read the service-account key at {path} "
            f"({exc.strerror})",
            hint="Check the path given with --option credentials_path (or in "
            "GOOGLE_APPLICATION_CREDENTIALS)",
        ) from None


class VertexProvider(ChatProvider):
    """Gemini on Vertex AI, by express key or service account."""

    api = "vertex"

    def __init__(self, config: ConnectionConfig) -> None:
        secret = credentials(config)
        self.region = str(config.options.get("region") or "us-central1")
        self.tokens: auth.TokenSource | None = None
        self.express_key: str | None = None
        if auth.looks_like_service_account(secret):
            account = auth.parse_service_account(secret, config.name)
            project = config.options.get("project") or account.project_id
            if not project:
                raise ConfigError(
                    f"connection {config.name!r} (vertex) names no project",
                    hint="Give it with --option project=PROJECT_ID",
                )
            self.prefix = f"v1/projects/{project}/locations/{self.region}/publishers/google"
            self.tokens = auth.TokenSource(account, config.name, fetch=self._post_form)
            host = host_for(self.region)
        else:
            self.express_key = secret.strip()
            self.prefix, host = "v1/publishers/google", EXPRESS_HOST
        base = normalize_base_url(config.url or host, strip_suffixes=("/v1",))
        super().__init__(config, base_url=base, headers={})

    def supported_samplers(self) -> frozenset[str]:
        """Gemini's: temperature, top_p, top_k, max_tokens, stop (5) and seed."""
        return gemini.SAMPLERS

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """Vertex's advice for refused credentials, permissions, models and quotas (a
        refused access token is dropped, so the next request signs a new one)."""
        if status == 401 and self.tokens is not None:
            self.tokens.forget()
        return refine(error, body, express=self.express_key is not None)

    def _refine(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        refined = super()._refine(error, status, body)
        return scrub(refined, self.express_key)

    async def _post_form(self, url: str, form: Mapping[str, str]) -> Any:
        timeout = float(self.config.options.get("timeout_first_byte") or 60.0)
        return await auth.post_form(self.name, url, form, timeout)

    async def _auth(self) -> tuple[dict[str, str], dict[str, str]]:
        """The (headers, query) that authenticate one request."""
        if self.tokens is None:
            return {}, {"key": self.express_key or ""}
        try:
            token = await self.tokens.token()
        except ProviderError as error:
            raise scrub(error, self.config.key) from None
        return {"Authorization": f"Bearer {token}"}, {}

    def _path(self, model: str, method: str) -> str:
        name = model.removeprefix("models/").rsplit("/", 1)[-1]
        return f"{self.prefix}/models/{quote(name, safe='.-_@')}:{method}"

    async def list_models(self) -> list[ModelInfo]:
        """The connection's model (Vertex lists no publisher models for these keys)."""
        return [ModelInfo(id=self.model_for())]

    async def count_tokens(self, text: str) -> int | None:
        """Tokens of ``text`` as one user turn (``:countTokens``, ``totalTokens``)."""
        if not text:
            return 0
        body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
        headers, params = await self._auth()
        path = self._path(self.model_for(), "countTokens")
        data = await self.http.request_json(
            "POST", path, json_body=body, params=params, headers=headers
        )
        return token_count(data, "totalTokens", self.name, missing=0)

    async def check(self) -> ConnectionStatus:
        """Count the tokens of one word with the model: proves key, project, region, model."""
        try:
            await self.count_tokens("Hi")
        except ProviderError as error:
            scrub(scrub(error, self.config.key), self.express_key)
            return ConnectionStatus(
                ok=False, summary=error.message, hint=error.hint, details={"kind": error.kind}
            )
        mode = "express key" if self.tokens is None else "service account"
        model = self.model_for()
        return ConnectionStatus(
            ok=True,
            summary=f"{self.name}: Vertex AI accepted the {mode} for {model} ({self.region})",
            model=model,
            models=(model,),
        )

    def model_for(self, request: GenerationRequest | None = None) -> str:
        """The request's model, the connection's, else ``gemini-2.5-flash``."""
        return (request.model if request else None) or self.config.model or DEFAULT_MODEL

    async def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        model = self.model_for(request)
        body = gemini.build_body(request, self.config.options)
        headers, params = await self._auth()
        if not request.stream:
            path = self._path(model, "generateContent")
            data = await self.http.request_json(
                "POST", path, json_body=body, params=params, headers=headers
            )
            for event in gemini.parse_reply(self.name, data):
                yield event
            return
        parser = gemini.StreamParser(self.name)
        path = self._path(model, "streamGenerateContent")
        events_in = self._sse(path, body, {**params, "alt": "sse"}, headers)
        async with aclosing(events_in) as events:
            async for sse in events:
                if not sse.data.strip():
                    continue
                data = parse_json_event(sse.data, self.name)
                for item in data if sse.event == JSON_ANSWER and isinstance(data, list) else [data]:
                    for event in parser.feed(item):
                        yield event
        for event in parser.end():
            yield event

    async def _sse(
        self, path: str, body: Any, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> AsyncGenerator[ServerSentEvent, None]:
        """The answer's SSE events (a plain JSON answer as one ``application/json`` event),
        sent with this request's credentials."""
        async with self.http.open(
            "POST", path, json_body=body, params=params, headers=headers
        ) as response:
            ensure_api_answer(response, self.name)
            chunks = self.http.iter_bytes(response)
            if "application/json" in response.headers.get("content-type", ""):
                text = b"".join([chunk async for chunk in chunks]).decode("utf-8", "replace")
                yield ServerSentEvent(data=text, event=JSON_ANSWER)
                return
            async for event in iter_sse(chunks):
                yield event


ADVICE = {
    "UNAUTHENTICATED": "The token or key was refused: store a new service-account JSON key "
    f"({auth.KEYS_PAGE}) or express key ({EXPRESS_KEYS})",
    "PERMISSION_DENIED": "Enable the Vertex AI API (aiplatform.googleapis.com) on the project "
    "and give the service account the role Vertex AI User (roles/aiplatform.user)",
    "NOT_FOUND": "Check the model name and the region (--option region=...): not every model "
    "is offered in every region; `global` has the most",
    "RESOURCE_EXHAUSTED": "Wait a minute and try again, or ask for more quota in the Google "
    "Cloud console > IAM & Admin > Quotas (Vertex AI)",
}


def refine(error: ProviderError, body: Any, *, express: bool) -> ProviderError:
    """Google's ``{"error": {"status", "message", "details"}}`` with Vertex's advice."""
    inner = body.get("error") if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        return error
    status = str(inner.get("status") or "")
    reasons = {d.get("reason") for d in inner.get("details") or [] if isinstance(d, dict)}
    if "API_KEY_INVALID" in reasons or (express and status == "UNAUTHENTICATED"):
        return AuthError(
            f"Vertex AI refused the express-mode key: {inner.get('message') or status}",
            provider=error.provider,
            status_code=error.status_code,
            hint=f"Copy a valid key from {EXPRESS_KEYS} and store it with "
            "`pytavern connections add NAME --api vertex --key -`",
        )
    if status in ADVICE:
        error.hint = ADVICE[status]
    return error


SPEC = BackendSpec(
    name="vertex",
    label="Google Vertex AI",
    group="chat",
    family="chat",
    provider=VertexProvider,
    options=VertexOptions,
    default_url=None,
    needs_url=False,
    key_env=KEY_ENV,
    key_required=False,
    tokenizer="gemini",
    default_model=DEFAULT_MODEL,
    needs_model=True,
    capabilities=Capabilities(context_limit=False, token_counting=True, model_list=False),
)
