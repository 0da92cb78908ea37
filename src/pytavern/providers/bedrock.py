"""Amazon Bedrock (API type ``bedrock``): the Converse API, signed with SigV4 by us.

No middle layer and no AWS SDK: requests go to ``https://bedrock-runtime.{region}
.amazonaws.com/model/{modelId}/converse-stream`` (or ``/converse``), signed with AWS
Signature Version 4 (``_sigv4``); the stream is AWS event-stream framing
(``_eventstream``), checksums checked. Models come from ``GET https://bedrock.{region}
.amazonaws.com/foundation-models?byOutputModality=TEXT`` (those callable on demand) and
``GET .../inference-profiles`` (``us.anthropic...``: many newer models are reached only
so). A connection URL replaces both hosts (for a VPC endpoint or proxy).

Credentials: the key is the secret access key (stored, or ``AWS_SECRET_ACCESS_KEY``); the
access key ID is option ``access_key_id``, else ``AWS_ACCESS_KEY_ID``. With the ID taken
from the environment, ``AWS_SESSION_TOKEN`` is sent too (temporary credentials).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import Field

from pytavern.errors import (
    AuthError,
    MissingKeyError,
    ProviderError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamNotFoundError,
)
from pytavern.events import StreamEvent
from pytavern.providers import _bedrock_wire as wire
from pytavern.providers import _sigv4 as sigv4
from pytavern.providers._chat import ChatProvider, ensure_api_answer
from pytavern.providers._eventstream import EventStreamDecoder, EventStreamError
from pytavern.providers._http_config import encode_json, normalize_base_url
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.spec import BackendSpec, HttpOptions
from pytavern.types import GenerationRequest, ModelInfo

if TYPE_CHECKING:
    from pytavern.providers._http import UpstreamResponse

SECRET_ENV = "AWS_SECRET_ACCESS_KEY"
SERVICE = "bedrock"
"""The signing name of both the runtime and the control-plane APIs."""


class BedrockOptions(HttpOptions):
    """Bedrock's connection options."""

    region: str = Field("us-east-1", description="AWS region of the Bedrock endpoint.")
    access_key_id: str | None = Field(
        None, description="AWS access key ID (default: AWS_ACCESS_KEY_ID)."
    )


def credentials_for(config: ConnectionConfig) -> sigv4.Credentials:
    """The access key of the connection; ``MissingKeyError`` naming what is missing."""
    key_id = config.options.get("access_key_id")
    token = None
    if not key_id:
        key_id = os.environ.get("AWS_ACCESS_KEY_ID")
        token = os.environ.get("AWS_SESSION_TOKEN") or None
    secret = config.key or os.environ.get(SECRET_ENV)
    if not key_id or not secret:
        missing = "access key ID" if not key_id else "secret access key"
        raise MissingKeyError(
            f"connection {config.name!r} (bedrock) has no {missing}",
            hint=f"Create an access key in {wire.IAM_KEYS}; give its ID with --option "
            f"access_key_id=AKIA... and store its secret with `pytavern connections add "
            f"{config.name} --api bedrock --key -` (or set AWS_ACCESS_KEY_ID and {SECRET_ENV})",
        )
    return sigv4.Credentials(str(key_id), secret, token)


class BedrockProvider(ChatProvider):
    """Amazon Bedrock's Converse API."""

    api = "bedrock"

    def __init__(self, config: ConnectionConfig) -> None:
        self.credentials = credentials_for(config)
        self.region = str(config.options.get("region") or "us-east-1")
        given = normalize_base_url(config.url) if config.url else None
        self.runtime_url = given or f"https://bedrock-runtime.{self.region}.amazonaws.com"
        self.control_url = given or f"https://bedrock.{self.region}.amazonaws.com"
        super().__init__(config, base_url=self.runtime_url, headers={})
        self.http.encoded_urls = True  # the signature covers the path exactly as sent

    def supported_samplers(self) -> frozenset[str]:
        """max_tokens, temperature, top_p, stop (4) and, for Claude models, top_k."""
        return wire.SAMPLERS

    def refine_error(self, error: ProviderError, status: int, body: Any) -> ProviderError:
        """Bedrock's advice for unknown key IDs, wrong secrets, model access, quotas."""
        return wire.refine(error, self.region, status, body)

    def _signed(self, method: str, url: str, body: bytes) -> dict[str, str]:
        headers = sigv4.sign(
            method, url, body, self.credentials, region=self.region, service=SERVICE
        )
        return {**headers, "Accept": "application/json"}

    async def list_models(self) -> list[ModelInfo]:
        """The region's on-demand text models (``GET /foundation-models``) and its
        inference profiles (``GET /inference-profiles``; left out where the key may not
        list them)."""
        models = wire.parse_models(await self._get("foundation-models?byOutputModality=TEXT"))
        try:
            data = await self._get("inference-profiles?typeEquals=SYSTEM_DEFINED&maxResults=1000")
        except (AuthError, UpstreamNotFoundError):
            return models
        return models + wire.parse_profiles(data)

    async def _get(self, path: str) -> Any:
        """A signed GET on the control-plane host."""
        url = f"{self.control_url}/{path}"
        return await self.http.request_json("GET", url, headers=self._signed("GET", url, b""))

    def _model_url(self, model: str, method: str) -> str:
        return f"{self.runtime_url}/model/{quote(model, safe='')}/{method}"

    async def _stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        model = self.model_for(request)
        body = wire.build_body(request, model)
        method = "converse-stream" if request.stream else "converse"
        url = self._model_url(model, method)
        headers = self._signed("POST", url, encode_json(body))
        if not request.stream:
            data = await self.http.request_json("POST", url, json_body=body, headers=headers)
            for event in wire.parse_reply(self.name, model, data):
                yield event
            return
        headers["Accept"] = "application/vnd.amazon.eventstream"
        parser = wire.StreamParser(self.name, model)
        async with self.http.open("POST", url, json_body=body, headers=headers) as response:
            ensure_api_answer(response, self.name)
            if "application/json" in response.headers.get("content-type", ""):
                data = await self.http.read_json(response)
                for event in wire.parse_reply(self.name, model, data):
                    yield event
                return
            async for event in self._events(response, parser):
                yield event
        for event in parser.end():
            yield event

    async def _events(
        self, response: UpstreamResponse, parser: wire.StreamParser
    ) -> AsyncIterator[StreamEvent]:
        """Decode the event-stream body; a cut inside a message loses nothing before it."""
        decoder = EventStreamDecoder()
        try:
            async for chunk in self.http.iter_bytes(response):
                for message in decoder.feed(chunk):
                    for event in parser.feed(message):
                        yield event
        except EventStreamError as exc:
            raise StreamProtocolError(
                f"the event stream is corrupt ({exc})",
                provider=self.name,
                hint="What arrived was kept; try again (a proxy may be altering the stream)",
            ) from None
        if decoder.pending:
            raise StreamInterruptedError(
                "the stream was cut inside an event",
                provider=self.name,
                hint="What arrived was kept; continue or regenerate the reply",
            )


SPEC = BackendSpec(
    name="bedrock",
    label="Amazon Bedrock",
    group="chat",
    family="chat",
    provider=BedrockProvider,
    options=BedrockOptions,
    default_url=None,
    needs_url=False,
    key_env=SECRET_ENV,
    key_required=True,
    default_model="us.anthropic.claude-3-5-haiku-20241022-v1:0",
    needs_model=True,
)
