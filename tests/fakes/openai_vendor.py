"""One fake for every OpenAI-compatible service, parametrised by a ``Vendor`` profile.

A profile (``tests/fakes/vendors/<name>.py``) gives what differs between services: where
the routes live, the key, the models, the shape of the error body and its statuses, and the
checks the real service makes on a request body (``refuse``: Mistral refuses ``seed``,
Perplexity a ``stop``...). Streams are real ``chat.completion.chunk`` frames ending in
``data: [DONE]``; ``reasoning`` models stream ``reasoning_content`` first; ``extra_fields``
adds top-level fields to every chunk and answer (Perplexity's ``citations``). Faults come
from the shared ``FaultPlan`` (429, 500, 503, cut, stall, malformed, html...); a profile
says what its service sends when a reply fails mid-stream (``stream_failures``) and how it
answers faults of its own (``fault_answers``: Cloudflare's capacity error with status 200).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.chat_common import before_reply, chunks_of, echo_text, record, sse, sse_response
from tests.fakes.openai_fake import _chunk, _finish, _last_user, _usage
from tests.fakes.openai_fake import error_body as openai_error_body
from tests.fakes.server import FaultPlan

THINK_PIECES = ("<thi", "nk>Thinking it", " over.</th", "ink>\n\n")
"""A ``<think>`` block as models that think in their text stream it."""
ErrorShape = Callable[[int, str], dict[str, Any]]
"""(status, message) -> the service's error body."""
Refusal = tuple[int, str]
"""(status, message) of a request the service refuses."""


def openai_shape(status: int, message: str) -> dict[str, Any]:
    """OpenAI's ``{"error": {message, type, param, code}}`` (most services copy it)."""
    return openai_error_body(status, "", message)


def no_refusal(body: dict[str, Any]) -> Refusal | None:
    """A service that takes every field it does not know."""
    return None


@dataclass(frozen=True)
class Vendor:
    """What one OpenAI-compatible service looks like on the wire."""

    name: str
    key: str | None
    models: tuple[str, ...]
    prefix: str = "/v1"
    error: ErrorShape = openai_shape
    refuse: Callable[[dict[str, Any]], Refusal | None] = no_refusal
    reasoning: frozenset[str] = frozenset()
    think_in_text: frozenset[str] = frozenset()
    """Models whose reply text opens with ``<think>...</think>`` (cut across chunks)."""
    extra_fields: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    models_path: str | None = "/models"
    """Where the model list lives under ``prefix`` (``None``: the service has none);
    an absolute path (starting with ``//``) is taken from the root."""
    models_answer: Callable[[tuple[str, ...]], Any] | None = None
    unknown_model: Refusal = (404, "The model `{model}` does not exist.")
    bad_key: Refusal = (401, "Invalid API key provided.")
    headers: dict[str, str] = field(default_factory=dict)
    """Headers the service requires on every request (name -> value)."""
    stream_failures: Mapping[str, str] = field(default_factory=dict)
    """What the service sends, before the body ends, when a reply fails after its stream
    began: in-stream fault (``error_in_stream``, ``engine_error``) -> bytes; a fault not
    named sends a ``data:`` frame of the ``error`` shape."""
    fault_answers: Mapping[str, tuple[int, Any]] = field(default_factory=dict)
    """The service's own answers to faults armed for it: fault -> (status, JSON body)."""

    def fail(self, refusal: Refusal, **names: Any) -> JSONResponse:
        """The service's error answer for ``refusal``."""
        status, message = refusal
        return JSONResponse(self.error(status, message.format(**names)), status_code=status)


def _openai_models(models: tuple[str, ...]) -> Any:
    data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in models]
    return {"object": "list", "data": data}


def _denied(vendor: Vendor, request: Request) -> JSONResponse | None:
    if vendor.key is not None and request.headers.get("authorization") != f"Bearer {vendor.key}":
        return vendor.fail(vendor.bad_key)
    for name, value in vendor.headers.items():
        if request.headers.get(name) != value:
            return vendor.fail((400, f"missing header {name}"))
    return None


def _invalid(vendor: Vendor, body: Any) -> JSONResponse | None:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return vendor.fail((400, "Invalid request body: 'messages' is required."))
    if body.get("model") not in vendor.models:
        return vendor.fail(vendor.unknown_model, model=body.get("model"))
    refused = vendor.refuse(body)
    return vendor.fail(refused) if refused is not None else None


def _with_extra(vendor: Vendor, body: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {**data, **vendor.extra_fields(body)} if vendor.extra_fields else data


def _frames(vendor: Vendor, body: dict[str, Any], text: str, reason: str) -> list[str]:
    model = body["model"]

    def frame(delta: dict[str, Any], finish: str | None = None) -> str:
        return sse(_with_extra(vendor, body, _chunk(model, delta, finish)))

    frames = [frame({"role": "assistant", "content": ""})]
    if model in vendor.reasoning:
        frames.append(frame({"content": None, "reasoning_content": "Thinking it over."}))
    if model in vendor.think_in_text:
        frames += [frame({"content": piece}) for piece in THINK_PIECES]
    frames += [frame({"content": piece}) for piece in chunks_of(text)]
    frames.append(frame({}, reason))
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {**_chunk(model, {}), "choices": [], "usage": _usage(body, text)}
        frames.append(sse(_with_extra(vendor, body, usage)))
    frames.append("data: [DONE]\n\n")
    return frames


def _completion(vendor: Vendor, body: dict[str, Any], text: str, reason: str) -> dict[str, Any]:
    thought = "".join(THINK_PIECES) if body["model"] in vendor.think_in_text else ""
    message: dict[str, Any] = {"role": "assistant", "content": thought + text}
    if body["model"] in vendor.reasoning:
        message["reasoning_content"] = "Thinking it over."
    data = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": reason}],
        "usage": _usage(body, text),
    }
    return _with_extra(vendor, body, data)


def _in_stream(vendor: Vendor) -> Callable[[str], str]:
    def frame(fault: str) -> str:
        if fault == "malformed":
            return 'data: {"id": "chatcmpl-fake", "choices": [\n\n'
        if fault in vendor.stream_failures:
            return vendor.stream_failures[fault]
        return sse(vendor.error(500, "The server had an error while processing"))

    return frame


def _own_answer(vendor: Vendor, fault: str | None) -> Response | None:
    """The vendor's own answer to ``fault`` (``Vendor.fault_answers``), if it has one."""
    if fault is None or fault not in vendor.fault_answers:
        return None
    status, body = vendor.fault_answers[fault]
    return JSONResponse(body, status_code=status)


def create_app(plan: FaultPlan, vendor: Vendor, *, chunk_delay: float = 0.01) -> FastAPI:
    """The fake service described by ``vendor``."""
    app = FastAPI()

    def shape(status: int, _kind: str, message: str) -> dict[str, Any]:
        return vendor.error(status, message)

    if vendor.models_path is not None:
        path = vendor.models_path
        route = path[1:] if path.startswith("//") else f"{vendor.prefix}{path}"

        @app.get(route)
        async def models(request: Request) -> Response:
            await record(plan, request)
            early = await before_reply(plan, plan.take(), shape)
            if early is not None:
                return early
            denied = _denied(vendor, request)
            if denied is not None:
                return denied
            answer = vendor.models_answer or _openai_models
            return JSONResponse(answer(vendor.models))

    @app.post(f"{vendor.prefix}/chat/completions")
    async def chat(request: Request) -> Response:
        entry = await record(plan, request)
        fault = plan.take()
        early = _own_answer(vendor, fault) or await before_reply(plan, fault, shape)
        if early is not None:
            return early
        denied = _denied(vendor, request) or _invalid(vendor, entry["body"])
        if denied is not None:
            return denied
        body = entry["body"]
        text, reason = _finish(body, echo_text(_last_user(body)))
        if not body.get("stream"):
            entry["completed"] = True
            return JSONResponse(_completion(vendor, body, text, reason))
        frames = _frames(vendor, body, text, reason)
        return sse_response(plan, entry, frames, fault, _in_stream(vendor), delay=chunk_delay)

    return app


@dataclass(frozen=True)
class FlavourFake:
    """A flavour's fake service and the connection settings that reach it."""

    vendor: Vendor
    model: str
    path: str = "/v1"
    """Appended to the served root (``http://127.0.0.1:PORT``) to give the connection URL."""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        """The key the fake accepts (``None``: the service takes none)."""
        return self.vendor.key

    def app(self, plan: FaultPlan) -> FastAPI:
        """The fake service, faults drawn from ``plan``."""
        return create_app(plan, self.vendor)

    def url(self, root: str) -> str:
        """The connection URL for a fake served at ``root``."""
        return f"{root}{self.path}"
