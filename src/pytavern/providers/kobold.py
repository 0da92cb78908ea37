"""KoboldAI United (classic ``/api/v1``) and KoboldCpp (native ``/api/extra``) backends.

API types ``kobold`` (United: no streaming; the prompt is checked against the server's
context size before sending) and ``koboldcpp`` (SSE streaming on
``/api/extra/generate/stream``, ``POST /api/extra/abort`` with the generation key when the
consumer stops, ``/api/extra/tokencount``). The URL may be given with or without ``/api``.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pytavern.errors import BadRequestError, ProviderError, StreamProtocolError
from pytavern.events import Finished, StreamEvent, TextDelta
from pytavern.providers._text import TextProvider, bearer
from pytavern.providers.spec import BackendSpec, Capabilities
from pytavern.types import ConnectionStatus, FinishReason, GenerationRequest, ModelInfo

CLASSIC_FLAGS = {
    "use_story": False,
    "use_memory": False,
    "use_authors_note": False,
    "use_world_info": False,
}
"""United extras SillyTavern always turns off (pytavern builds the whole prompt)."""


KOBOLDCPP_SINCE = {
    "mirostat": (1, 35),
    "mirostat_tau": (1, 35),
    "mirostat_eta": (1, 35),
    "grammar": (1, 44),
    "min_p": (1, 48),
}
"""KoboldCpp versions that first took these parameters (older ones refuse or ignore them)."""

UNITED_SINCE = {"stop_sequence": (1, 2, 2)}
"""KoboldAI United versions that first took these parameters."""

STREAMING_SINCE = (1, 30)
"""The first KoboldCpp version with SSE streaming."""


def drop_too_new(
    params: dict[str, Any], version: tuple[int, ...], since: Mapping[str, tuple[int, ...]]
) -> dict[str, Any]:
    """Leave out parameters the server's ``version`` does not know (unknown keeps all)."""
    if not version:
        return params
    return {k: v for k, v in params.items() if k not in since or version >= since[k]}


def kobold_body(
    prompt: str,
    params: dict[str, Any],
    *,
    max_context_length: int | None = None,
    genkey: str | None = None,
) -> dict[str, Any]:
    """Build a ``/api/v1/generate`` (or ``/api/extra/generate/stream``) body."""
    body: dict[str, Any] = {"prompt": prompt, **params, **CLASSIC_FLAGS}
    if max_context_length is not None:
        body["max_context_length"] = max_context_length
    if genkey is not None:
        body["genkey"] = genkey
    return body


def finish_reason(value: Any) -> FinishReason | None:
    """Map a KoboldCpp ``finish_reason`` onto ours (``None`` when not finished)."""
    if value in (None, "", "null"):
        return None
    return "length" if value == "length" else "stop"


def parse_generate(body: Any) -> tuple[str, FinishReason]:
    """Return the text and finish reason of a ``/api/v1/generate`` answer."""
    try:
        result = body["results"][0]
        text = result["text"]
    except (KeyError, IndexError, TypeError):
        raise ValueError("no results[0].text in the answer") from None
    if not isinstance(text, str):
        raise ValueError("results[0].text is not a string")
    return text, finish_reason(result.get("finish_reason")) or "stop"


def parse_stream_data(data: Any) -> tuple[str, FinishReason | None]:
    """Return the token and finish reason (if any) of one SSE ``message`` event."""
    if not isinstance(data, dict) or not isinstance(data.get("token", ""), str):
        raise ValueError("the event has no token")
    return data.get("token", ""), finish_reason(data.get("finish_reason"))


def parse_version(text: str | None) -> tuple[int, ...]:
    """Parse ``"1.78.1"`` into ``(1, 78, 1)``; anything unparsable gives ``()``."""
    parts: list[int] = []
    for piece in (text or "").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def estimate_tokens(text: str) -> int:
    """A cautious estimate (about 3.3 characters a token) when no tokenizer is reachable."""
    return len(text) * 10 // 33 + 1


class KoboldProvider(TextProvider):
    """KoboldAI United's classic API: one non-streamed generation per request."""

    api = "kobold"
    sampler_backend = "kobold"
    default_url = "http://127.0.0.1:5000"
    strip_suffixes = ("/generate", "/v1", "/extra", "/api")
    version_path = "/api/v1/info/version"
    version_key = "result"
    since: Mapping[str, tuple[int, ...]] = UNITED_SINCE
    _version: tuple[int, ...] | None = None

    def headers(self) -> dict[str, str]:
        """KoboldCpp's ``--password`` is a Bearer token; United takes none."""
        return bearer(self.config.key)

    async def list_models(self) -> list[ModelInfo]:
        """Return the one loaded model (``/api/v1/model``)."""
        body = await self.http.request_json("GET", "/api/v1/model")
        name = body.get("result") if isinstance(body, dict) else None
        if not isinstance(name, str) or name in ("", "ReadOnly"):
            return []
        return [ModelInfo(id=name)]

    async def probe(self) -> ConnectionStatus:
        """Read the version and model; ``ReadOnly`` means no model is loaded."""
        version = await self.http.request_json("GET", "/api/v1/info/version")
        models = await self.list_models()
        details: dict[str, object] = {"version": _result(version)}
        if not models:
            return ConnectionStatus(
                ok=False,
                summary="connected, but no model is loaded",
                hint="Load a model in KoboldAI, then test again",
                details=details,
            )
        return ConnectionStatus(
            ok=True,
            summary=f"connected; model {models[0].id}",
            model=models[0].id,
            models=(models[0].id,),
            details=details,
        )

    async def server_version(self) -> tuple[int, ...]:
        """The server's version (asked once; ``()`` when it cannot be read)."""
        if self._version is None:
            try:
                body = await self.http.request_json("GET", self.version_path)
                value = body.get(self.version_key) if isinstance(body, dict) else None
                self._version = parse_version(str(value or ""))
            except ProviderError:
                self._version = ()
        return self._version

    async def params_for(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        """The prompt and the parameters this server's version takes."""
        prompt, params = self.prompt_and_params(request)
        return prompt, drop_too_new(params, await self.server_version(), self.since)

    async def max_context(self, request: GenerationRequest) -> int:
        """The context size: the request's, else the server's configured one."""
        if request.context_size:
            return request.context_size
        body = await self.http.request_json("GET", "/api/v1/config/max_context_length")
        value = body.get("value") if isinstance(body, dict) else None
        return int(value) if isinstance(value, int) else 2048

    async def count_tokens(self, text: str) -> int:
        """Count tokens with ``/api/extra/tokencount``."""
        body = await self.http.request_json(
            "POST", "/api/extra/tokencount", json_body={"prompt": text}
        )
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, int):
            raise StreamProtocolError(
                "the token count answer has no value", provider=self.name, hint=None
            )
        return value

    async def _prompt_tokens(self, prompt: str) -> int:
        try:
            return await self.count_tokens(prompt)
        except ProviderError:
            return estimate_tokens(prompt)

    async def _check_fits(self, prompt: str, params: dict[str, Any], limit: int) -> None:
        needed = await self._prompt_tokens(prompt) + int(params.get("max_length", 0))
        if needed > limit:
            raise BadRequestError(
                f"the prompt and reply need about {needed} tokens, more than the "
                f"context size of {limit}",
                provider=self.name,
                hint="Shorten the chat or the reply length, or load the model with a "
                "larger context",
            )

    async def generate_once(self, request: GenerationRequest) -> tuple[str, FinishReason]:
        """Send one ``/api/v1/generate`` after checking the prompt fits."""
        prompt, params = await self.params_for(request)
        limit = await self.max_context(request)
        await self._check_fits(prompt, params, limit)
        body = kobold_body(prompt, params, max_context_length=limit)
        answer = await self.http.request_json("POST", "/api/v1/generate", json_body=body)
        try:
            return parse_generate(answer)
        except ValueError as exc:
            raise StreamProtocolError(
                f"the answer is not a KoboldAI reply ({exc})",
                provider=self.name,
                hint="Check that the URL points at KoboldAI's API",
            ) from None

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Generate in one piece and yield it as one ``TextDelta``."""
        text, reason = await self.generate_once(request)
        if text:
            yield TextDelta(text)
        yield Finished(reason, model=self.model_for(request))


class KoboldCppProvider(KoboldProvider):
    """KoboldCpp's native API with SSE streaming and abort.

    Recent KoboldCpp sends ``finish_reason`` in every event and a last event with its
    value; then a stream ending without it was cut. Older versions end by closing.
    """

    api = "koboldcpp"
    sampler_backend = "koboldcpp"
    default_url = "http://127.0.0.1:5001"
    version_path = "/api/extra/version"
    version_key = "version"
    since = KOBOLDCPP_SINCE

    async def probe(self) -> ConnectionStatus:
        """Read ``/api/extra/version`` (features) and the loaded model."""
        version = await self.http.request_json("GET", "/api/extra/version")
        models = await self.list_models()
        number = version.get("version") if isinstance(version, dict) else None
        details: dict[str, object] = {
            "backend": _result(version),
            "version": number,
            "streaming": parse_version(str(number)) >= (1, 30),
        }
        model = models[0].id if models else None
        return ConnectionStatus(
            ok=model is not None,
            summary=f"connected to KoboldCpp {number}; model {model}"
            if model
            else "connected, but no model is loaded",
            hint=None if model else "Start KoboldCpp with a model, then test again",
            model=model,
            models=tuple(m.id for m in models),
            details=details,
        )

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Stream tokens from ``/api/extra/generate/stream``; abort upstream if stopped."""
        version = await self.server_version()
        if not request.stream or (version and version < STREAMING_SINCE):
            text, whole_reason = await self.generate_once(request)
            if text:
                yield TextDelta(text)
            yield Finished(whole_reason, model=self.model_for(request))
            return
        prompt, params = await self.params_for(request)
        genkey = f"KCPP{random.randint(1000, 9999)}"
        body = kobold_body(prompt, params, max_context_length=request.context_size, genkey=genkey)
        opened = done = False
        try:
            async with self.http.open(
                "POST", "/api/extra/generate/stream", json_body=body
            ) as response:
                opened = True
                reason: FinishReason | None = None
                announces_end = False
                async for _event, data in self.sse_json(response):
                    token, reason = self._token(data)
                    announces_end = announces_end or "finish_reason" in data
                    if token:
                        yield TextDelta(token)
                    if reason:
                        break
                if reason is None and announces_end:
                    raise self.interrupted()
            done = True
            yield Finished(reason or "stop", model=self.model_for(request))
        finally:
            if opened and not done:
                await self.abort(genkey)

    def _token(self, data: Any) -> tuple[str, FinishReason | None]:
        if isinstance(data, dict) and "detail" in data and "token" not in data:
            raise self.stream_error(data)
        try:
            return parse_stream_data(data)
        except ValueError as exc:
            raise StreamProtocolError(
                f"the stream is not KoboldCpp's ({exc})",
                provider=self.name,
                hint="What arrived was kept; check that the URL points at KoboldCpp",
            ) from None

    async def abort(self, genkey: str) -> None:
        """Ask KoboldCpp to stop generating (``POST /api/extra/abort``); errors are ignored."""
        with contextlib.suppress(ProviderError):
            await self.http.request_json("POST", "/api/extra/abort", json_body={"genkey": genkey})


def _result(body: Any) -> object:
    return body.get("result") if isinstance(body, dict) else None


SPECS = (
    BackendSpec(
        name="kobold",
        label="KoboldAI United (classic API)",
        sampler_defaults="kobold-classic",
        group="kobold",
        family="text",
        provider=KoboldProvider,
        default_url="http://127.0.0.1:5000",
        sampler_table="kobold",
        tokenizer="backend",
        capabilities=Capabilities(context_limit=True, token_counting=True),
    ),
    BackendSpec(
        name="koboldcpp",
        label="KoboldCpp",
        sampler_order_defaults="kobold_ids",
        group="kobold",
        family="text",
        provider=KoboldCppProvider,
        default_url="http://127.0.0.1:5001",
        key_env="KOBOLDCPP_API_KEY",
        sampler_table="koboldcpp",
        tokenizer="backend",
        capabilities=Capabilities(context_limit=True, token_counting=True),
    ),
)
