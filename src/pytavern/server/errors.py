"""Exception handlers: the pytavern error tree as JSON ``{"error": {...}}`` with a status."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from pytavern.errors import (
    ConfigError,
    ForbiddenError,
    FormatError,
    ModelLoadError,
    NotFoundError,
    ProviderError,
    PytavernError,
    RateLimitError,
    StoreError,
    UpstreamTimeoutError,
)
from pytavern.server.auth import LoginRequiredError, TooManyAttemptsError
from pytavern.server.generations import TooManyGenerationsError
from pytavern.server.uploads import UploadTooLargeError

logger = logging.getLogger("pytavern.server")

_STATUS: tuple[tuple[type[PytavernError], int], ...] = (
    (LoginRequiredError, 401),
    (ForbiddenError, 403),
    (TooManyAttemptsError, 429),
    (TooManyGenerationsError, 429),
    (NotFoundError, 404),
    (UploadTooLargeError, 413),
    (ConfigError, 400),
    (FormatError, 400),
    (RateLimitError, 429),
    (UpstreamTimeoutError, 504),
    (ProviderError, 502),
    (ModelLoadError, 503),
    (StoreError, 500),
)


def status_for(error: PytavernError) -> int:
    """The HTTP status that answers ``error``."""
    for error_class, status in _STATUS:
        if isinstance(error, error_class):
            return status
    return 500


def error_body(
    kind: str, message: str, hint: str | None = None, retryable: bool = False
) -> dict[str, dict[str, object]]:
    """The JSON body of every error answer."""
    return {"error": {"type": kind, "message": message, "hint": hint, "retryable": retryable}}


async def _pytavern_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PytavernError)
    headers = {}
    if isinstance(exc, RateLimitError) and exc.retry_after is not None:
        headers["Retry-After"] = str(int(exc.retry_after + 0.999))
    return JSONResponse({"error": exc.to_dict()}, status_code=status_for(exc), headers=headers)


def validation_answer(problems: Iterable[Mapping[str, Any]]) -> JSONResponse:
    """The 422 answer to a request whose parameters or body are not valid (``problems``:
    pydantic's errors, each with its ``loc`` and ``msg``)."""
    said = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}"
        for e in problems
    )
    body = error_body(
        "ValidationError",
        f"the request is not valid: {said}",
        "Check the fields sent against /openapi.json",
    )
    return JSONResponse(body, status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    body = error_body("HTTPError", str(exc.detail))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected error", exc_info=exc)
    body = error_body(
        "InternalError",
        f"the server failed unexpectedly ({type(exc).__name__})",
        "This is a bug in pytavern; the server console has the details",
    )
    return JSONResponse(body, status_code=500)


async def _to_the_server(_request: Request, exc: Exception) -> JSONResponse:
    raise exc


def install_error_handlers(app: Starlette, *, mounted: bool = False) -> None:
    """Answer every pytavern error and HTTP error in one JSON shape (the API's FastAPI app
    adds its validation errors: ``api_app``). An app ``mounted`` in the server's app
    passes unexpected errors on to it, which answers and logs each once."""
    app.add_exception_handler(PytavernError, _pytavern_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _to_the_server if mounted else _unexpected_error)
