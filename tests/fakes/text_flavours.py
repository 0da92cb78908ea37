"""A fake of the hosted and self-hosted OpenAI-completions services pytavern declares as
text flavours (Aphrodite, TogetherAI, InfermaticAI, Featherless, HuggingFace TGI, Generic).

One app speaks the common wire (``POST <prefix>/completions``, SSE ``data:`` frames of
``choices[].text`` ending in ``data: [DONE]``); each service's ``FakeService`` declares what
its real API does differently: paths, auth headers, the model list's shape, its error body
and status codes, the body fields it refuses, extra endpoints (tokenize, ``/info``).
Faults come from the ``FaultPlan`` as for every fake (``429``, ``500``, ``503``, ``html``,
``cut``, ``malformed``, ``error_in_stream``, ``stall``, ``stall_mid``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes._common import (
    REPLY,
    ErrorBody,
    fake_tokens,
    faulty_stream,
    record,
    status_fault,
    streaming,
)
from tests.fakes.server import FaultPlan

MODEL = "fake-13b"
BodyCheck = Callable[[dict[str, Any]], tuple[int, str] | None]
Routes = Callable[[FastAPI, FaultPlan, "FakeService"], None]


def openai_error(code: int, message: str) -> dict[str, Any]:
    """OpenAI's error envelope (TogetherAI, Featherless and OpenAI-compatible servers)."""
    kinds = {401: "authentication_error", 429: "rate_limit_exceeded"}
    kind = kinds.get(code, "server_error" if code >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def bearer_ok(request: Request, key: str) -> bool:
    """``Authorization: Bearer KEY``."""
    return request.headers.get("authorization") == f"Bearer {key}"


def no_check(body: dict[str, Any]) -> tuple[int, str] | None:
    """Accept every body."""
    return None


def openai_models() -> Any:
    """An OpenAI ``{"object": "list", "data": [...]}`` model list."""
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "fake"}]}


@dataclass(frozen=True)
class FakeService:
    """What one service's API does differently from the common completions wire."""

    name: str
    prefix: str = "/v1"
    models_path: str = "/v1/models"
    models: Callable[[], Any] = openai_models
    error: ErrorBody = openai_error
    authorized: Callable[[Request, str], bool] = bearer_ok
    unauthorized: tuple[int, str] = (401, "Invalid API key provided")
    check_body: BodyCheck = no_check
    message_answers: bool = False
    """Whole (non-streamed) answers carry ``choices[].message.content``, not ``text``."""
    routes: Routes | None = None
    stream_error: ErrorBody | None = None
    """The error frame sent mid-stream (``error`` when ``None``)."""


SERVICES: dict[str, FakeService] = {}
"""Each service's fake, by API type name (filled by the service's own section below)."""


def create_app(
    plan: FaultPlan, flavour: str, *, key: str | None = None, token_delay: float = 0.0
) -> FastAPI:
    """Build the fake of service ``flavour`` (a key of ``SERVICES``)."""
    service = SERVICES[flavour]
    app = FastAPI()

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        await record(plan, request)
        if key is not None and not service.authorized(request, key):
            status, message = service.unauthorized
            return JSONResponse(service.error(status, message), status_code=status)
        response: Response = await call_next(request)
        return response

    @app.get(service.models_path)
    async def models() -> Any:
        return service.models()

    if service.routes is not None:
        service.routes(app, plan, service)

    @app.post(f"{service.prefix}/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        fault = plan.take()
        refused = _refusal(service, body) or status_fault(fault, service.error)
        if refused is not None:
            return refused
        return await _answer(service, body, fault, plan, token_delay)

    return app


def _refusal(service: FakeService, body: Any) -> Response | None:
    if not isinstance(body, dict) or not isinstance(body.get("prompt"), str):
        return JSONResponse(service.error(400, "'prompt' is a required property"), 400)
    problem = service.check_body(body)
    if problem is None:
        return None
    status, message = problem
    return JSONResponse(service.error(status, message), status_code=status)


async def _answer(
    service: FakeService, body: dict[str, Any], fault: str | None, plan: FaultPlan, delay: float
) -> Response:
    limit = int(body.get("max_tokens") or 16)
    tokens = REPLY[:limit]
    reason = "length" if limit < len(REPLY) else "stop"
    usage = {
        "prompt_tokens": len(fake_tokens(body["prompt"])),
        "completion_tokens": len(tokens),
    }
    model = body.get("model") or MODEL
    if not body.get("stream"):
        text = "".join(tokens)
        choice: dict[str, Any] = {"index": 0, "finish_reason": reason}
        if service.message_answers:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        answer = {"object": "text_completion", "model": model, "choices": [choice]}
        return JSONResponse({**answer, "usage": usage})
    frames = _frames(model, tokens, reason)
    error_body = (service.stream_error or service.error)(500, "CUDA out of memory")
    error_frame = f"data: {json.dumps(error_body)}\n\n".encode()
    chunks = faulty_stream(
        frames,
        fault,
        plan,
        malformed=b'data: {"choices": [\n\n',
        error_frame=error_frame,
        delay=delay,
    )
    return await streaming(chunks, fault, plan, "text/event-stream")


def _frames(model: str, tokens: list[str], reason: str) -> list[bytes]:
    def chunk(text: str, finish: str | None) -> bytes:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        data = {"id": "cmpl-1", "object": "text_completion", "model": model, "choices": [choice]}
        return f"data: {json.dumps(data)}\n\n".encode()

    return [*(chunk(t, None) for t in tokens), chunk("", reason), b"data: [DONE]\n\n"]


# --- Generic: a strict OpenAI completions server -------------------------------------

OPENAI_COMPLETION_KEYS = frozenset(
    {"model", "prompt", "stream", "temperature", "top_p", "frequency_penalty"}
    | {"presence_penalty", "stop", "seed", "logit_bias", "logprobs", "max_tokens", "n"}
    | {"best_of", "echo", "suffix", "user", "stream_options"}
)


def openai_strict(body: dict[str, Any]) -> tuple[int, str] | None:
    """OpenAI's own checks: a model, known fields only, at most 4 stops."""
    if not body.get("model"):
        return 400, "you must provide a model parameter"
    unknown = sorted(set(body) - OPENAI_COMPLETION_KEYS)
    if unknown:
        return 400, f"Unrecognized request argument supplied: {unknown[0]}"
    stop = body.get("stop")
    if isinstance(stop, list) and len(stop) > 4:
        return 400, f"{stop!r} is too long - 'stop'"
    return None


SERVICES["generic"] = FakeService("generic", check_body=openai_strict)


# --- Featherless: the whole catalogue, gated and cold models --------------------------

GATED_MODEL = "meta-llama/gated-70b"
COLD_MODEL = "someone/cold-7b"


def featherless_models() -> Any:
    """Featherless's catalogue: plan availability, model class and context per model."""

    def card(model_id: str, model_class: str, available: bool) -> dict[str, Any]:
        return {
            "id": model_id,
            "object": "model",
            "name": model_id.rsplit("/", 1)[-1],
            "model_class": model_class,
            "context_length": 16384,
            "max_completion_tokens": 4096,
            "available_on_current_plan": available,
        }

    cards = [
        card("featherless-ai/too-big-405b", "llama31-405b", False),
        card(MODEL, "llama2-13b", True),
    ]
    return {"object": "list", "data": cards}


def featherless_refusals(body: dict[str, Any]) -> tuple[int, str] | None:
    """A model is required; a gated one is refused with 403, a cold one with 400."""
    model = body.get("model")
    if not model:
        return 400, "model is required"
    if model == GATED_MODEL:
        return 403, "This model is gated: agree to its license on the model page first"
    if model == COLD_MODEL:
        return 400, "This model is cold and not ready for inference"
    return None


SERVICES["featherless"] = FakeService(
    "featherless",
    models=featherless_models,
    unauthorized=(401, "Unauthenticated: the API key is not recognized"),
    check_body=featherless_refusals,
)


# --- TogetherAI: a bare model array, 403 for a prompt over the context ----------------

TOGETHER_CONTEXT = 4097


def together_models() -> Any:
    """Together's ``/api/models?info``: a bare array, ``name`` is the API id."""

    def card(name: str, kind: str) -> dict[str, Any]:
        return {
            "name": name,
            "display_name": name.rsplit("/", 1)[-1],
            "display_type": kind,
            "context_length": TOGETHER_CONTEXT,
        }

    return [card("black-forest-labs/FLUX.1", "image"), card(MODEL, "language")]


def together_refusals(body: dict[str, Any]) -> tuple[int, str] | None:
    """A model is required; a prompt plus ``max_tokens`` over the context is a 403."""
    if not body.get("model"):
        return 400, "model is required"
    given = len(fake_tokens(body["prompt"]))
    wanted = int(body.get("max_tokens") or 0)
    if given + wanted > TOGETHER_CONTEXT:
        return 403, (
            f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= "
            f"{TOGETHER_CONTEXT}. Given: {given} `inputs` tokens and {wanted} `max_new_tokens`"
        )
    return None


SERVICES["togetherai"] = FakeService(
    "togetherai",
    models_path="/api/models",
    models=together_models,
    unauthorized=(401, "Invalid API key provided. You can find your API key in your settings."),
    check_body=together_refusals,
)


# --- InfermaticAI: LiteLLM's error envelope, chat-form whole answers ------------------


def litellm_error(code: int, message: str) -> dict[str, Any]:
    """The error envelope of LiteLLM, which fronts Infermatic's API (``code`` a string)."""
    return {"error": {"message": message, "type": None, "param": None, "code": str(code)}}


def model_required(body: dict[str, Any]) -> tuple[int, str] | None:
    """Refuse a body without ``model``."""
    if not body.get("model"):
        return 400, "litellm.BadRequestError: model is required"
    return None


SERVICES["infermaticai"] = FakeService(
    "infermaticai",
    error=litellm_error,
    unauthorized=(401, "Authentication Error, Invalid proxy server token passed"),
    check_body=model_required,
    message_answers=True,
)


# --- HuggingFace TGI: /info, strict validation (422), overloaded (429) -----------------

TGI_KINDS = {422: "validation", 424: "generation", 429: "overloaded", 500: "incomplete_generation"}


def tgi_error(code: int, message: str) -> dict[str, Any]:
    """TGI's error body: ``{"error", "error_type"}``."""
    return {"error": message, "error_type": TGI_KINDS.get(code, "generation")}


def tgi_info() -> dict[str, Any]:
    """TGI's ``/info`` (the fields pytavern reads, and a few more)."""
    return {
        "model_id": MODEL,
        "model_sha": "0" * 40,
        "model_pipeline_tag": "text-generation",
        "max_concurrent_requests": 128,
        "max_best_of": 2,
        "max_stop_sequences": 4,
        "max_input_tokens": 4095,
        "max_total_tokens": 4096,
        "router": "text-generation-router",
        "version": "3.0.0",
    }


def tgi_routes(app: FastAPI, plan: FaultPlan, service: FakeService) -> None:
    """``GET /info``."""

    @app.get("/info")
    async def info() -> dict[str, Any]:
        return tgi_info()


def tgi_validation(body: dict[str, Any]) -> tuple[int, str] | None:
    """TGI's validation of a completions body (its own wording, HTTP 422)."""
    top_p = body.get("top_p")
    if top_p is not None and not 0 < top_p < 1:
        return 422, "Input validation error: `top_p` must be > 0.0 and < 1.0"
    temperature = body.get("temperature")
    if temperature is not None and temperature <= 0:
        return 422, "Input validation error: `temperature` must be strictly positive"
    penalty = body.get("repetition_penalty")
    if penalty is not None and penalty <= 0:
        return 422, "Input validation error: `repetition_penalty` must be strictly positive"
    stop = body.get("stop") or []
    if len(stop) > 4:
        return (
            422,
            f"Input validation error: `stop` supports up to 4 stop sequences. Given: {len(stop)}",
        )
    return None


SERVICES["huggingface"] = FakeService(
    "huggingface",
    error=tgi_error,
    unauthorized=(401, "Authorization header is correct, but the token seems invalid"),
    check_body=tgi_validation,
    routes=tgi_routes,
)


# --- Aphrodite Engine: X-API-KEY, /v1/tokenize, int token bans, its ErrorResponse -------


def aphrodite_error(code: int, message: str) -> dict[str, Any]:
    """Aphrodite's ``ErrorResponse``; its auth middleware answers ``{"error": ...}``."""
    if code == 401:
        return {"error": message}
    kinds = {400: "BadRequestError", 404: "NotFoundError", 429: "TooManyRequests"}
    kind = kinds.get(code, "InternalServerError")
    return {"object": "error", "message": message, "type": kind, "param": None, "code": code}


def aphrodite_stream_error(code: int, message: str) -> dict[str, Any]:
    """Mid-stream, Aphrodite wraps its ``ErrorResponse`` in ``{"error": ...}``."""
    return {"error": aphrodite_error(code, message)}


def aphrodite_authorized(request: Request, key: str) -> bool:
    """``X-API-KEY: KEY`` or ``Authorization: Bearer KEY``."""
    return request.headers.get("x-api-key") == key or bearer_ok(request, key)


def aphrodite_routes(app: FastAPI, plan: FaultPlan, service: FakeService) -> None:
    """``POST /v1/tokenize`` (``{tokens, count, max_model_len}``)."""

    @app.post("/v1/tokenize")
    async def tokenize(request: Request) -> Response:
        body = await request.json()
        if body.get("model") != MODEL:
            message = f"The model `{body.get('model')}` does not exist."
            return JSONResponse(aphrodite_error(404, message), status_code=404)
        ids = fake_tokens(body["prompt"])
        if body.get("add_special_tokens"):
            ids = [1, *ids]
        return JSONResponse({"tokens": ids, "count": len(ids), "max_model_len": 8192})


def aphrodite_models() -> dict[str, Any]:
    """The served model, with ``max_model_len``."""
    card = {"id": MODEL, "object": "model", "owned_by": "pygmalionai", "max_model_len": 8192}
    return {"object": "list", "data": [card]}


def aphrodite_validation(body: dict[str, Any]) -> tuple[int, str] | None:
    """The served model only; ``custom_token_bans`` ints, DRY breakers a list."""
    if body.get("model") != MODEL:
        return 404, f"The model `{body.get('model')}` does not exist."
    bans = body.get("custom_token_bans")
    if bans is not None and not all(isinstance(t, int) for t in bans):
        return 400, "custom_token_bans: Input should be a valid list of integers"
    breakers = body.get("dry_sequence_breakers")
    if breakers is not None and not isinstance(breakers, list):
        return 400, "dry_sequence_breakers: Input should be a valid list"
    return None


SERVICES["aphrodite"] = FakeService(
    "aphrodite",
    models=lambda: {
        "object": "list",
        "data": [
            {"id": MODEL, "object": "model", "owned_by": "pygmalionai", "max_model_len": 8192}
        ],
    },
    error=aphrodite_error,
    authorized=aphrodite_authorized,
    unauthorized=(401, "Unauthorized"),
    check_body=aphrodite_validation,
    routes=aphrodite_routes,
    stream_error=aphrodite_stream_error,
)
