"""A fake Google Vertex AI: the OAuth token endpoint and Gemini's methods on Vertex's paths.

- ``POST /token``: the JWT bearer grant (form-encoded ``grant_type`` and ``assertion``). The
  assertion's RS256 signature is checked with the fake service account's public key, and
  its claims as Google checks them (``iss``, ``aud`` = this token URI, the ``cloud-platform``
  scope, at most an hour between ``iat`` and ``exp``, not expired). Refusals are
  ``400 {"error": "invalid_grant", "error_description": ...}``; a good assertion gets
  ``{"access_token": "ya29...", "expires_in": 3599, "token_type": "Bearer"}``.
- ``POST /v1/projects/{project}/locations/{region}/publishers/google/models/{model}:{method}``
  with ``Authorization: Bearer`` (an unknown token is 401 UNAUTHENTICATED; another project
  403 PERMISSION_DENIED), and express mode ``POST /v1/publishers/google/models/...?key=``
  (a wrong key is 400 API_KEY_INVALID). An unknown model is 404 NOT_FOUND naming the
  publisher model. Methods ``generateContent``, ``streamGenerateContent`` (SSE with
  ``alt=sse``) and ``countTokens`` answer as the Gemini fake does.

``service_account_json(url)`` is the key file of the fake account (token URI on ``url``).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes import gemini_fake as gemini
from tests.fakes.chat_common import before_reply, echo_text, record, sse_response
from tests.fakes.server import FaultPlan

PROJECT = "fake-project-123"
REGIONS = {"us-central1", "europe-west4", "global"}
EXPRESS_KEY = "AQ.fake-express-0123456789"
CLIENT_EMAIL = f"pytavern@{PROJECT}.iam.gserviceaccount.com"
KEY_ID = "0123456789abcdef0123456789abcdef01234567"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = _PRIVATE.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()


def service_account_json(url: str, *, project: str = PROJECT, key: str = PRIVATE_PEM) -> str:
    """The fake account's JSON key, as the Cloud console downloads it."""
    return json.dumps(
        {
            "type": "service_account",
            "project_id": project,
            "private_key_id": KEY_ID,
            "private_key": key,
            "client_email": CLIENT_EMAIL,
            "client_id": "123456789012345678901",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f"{url}/token",
        }
    )


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _grant_error(description: str) -> JSONResponse:
    return JSONResponse(
        {"error": "invalid_grant", "error_description": description}, status_code=400
    )


def _check_assertion(assertion: str, token_uri: str) -> str | None:
    """What is wrong with ``assertion`` (Google's description), or ``None``."""
    parts = assertion.split(".")
    if len(parts) != 3:
        return "Invalid JWT: not a JWT"
    header, claims = (json.loads(_unb64(p)) for p in parts[:2])
    if header.get("alg") != "RS256" or header.get("kid") != KEY_ID:
        return "Invalid JWT Signature."
    try:
        _PRIVATE.public_key().verify(
            _unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return "Invalid JWT Signature."
    now = time.time()
    if claims.get("iss") != CLIENT_EMAIL:
        return "Invalid email or User ID"
    if claims.get("aud") != token_uri or claims.get("scope") != SCOPE:
        return "Invalid JWT: audience or scope is wrong"
    iat, exp = claims.get("iat", 0), claims.get("exp", 0)
    if exp - iat > 3600 or iat > now + 60 or exp < now:
        return (
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
            "timeframe. Check your iat and exp values in the JWT claim."
        )
    return None


def _google_error(status: int, message: str, reason: str | None = None) -> JSONResponse:
    return JSONResponse(gemini.error_body(status, "", message, reason), status_code=status)


def _unauthenticated() -> JSONResponse:
    body = {
        "error": {
            "code": 401,
            "message": "Request had invalid authentication credentials. Expected OAuth 2 "
            "access token, login cookie or other valid authentication credential.",
            "status": "UNAUTHENTICATED",
        }
    }
    return JSONResponse(body, status_code=401)


class _State:
    """Tokens the fake issued (token -> expiry) and how many it issued."""

    def __init__(self, lifetime: int) -> None:
        self.lifetime = lifetime
        self.tokens: dict[str, float] = {}

    def issue(self) -> str:
        """A new access token, valid for ``lifetime`` seconds."""
        token = f"ya29.fake-{len(self.tokens) + 1}"
        self.tokens[token] = time.time() + self.lifetime
        return token

    def valid(self, header: str) -> bool:
        """Whether an ``Authorization`` header carries a token issued here, not expired."""
        token = header.removeprefix("Bearer ")
        return self.tokens.get(token, 0.0) > time.time()


def _model_error(resource: str, model: str) -> JSONResponse | None:
    if model in gemini.MODELS:
        return None
    return _google_error(
        404,
        f"Publisher Model `{resource}/publishers/google/models/{model}` was not found or your "
        "project does not have access to it. Please ensure you are using a valid model version.",
    )


async def _generate(
    plan: FaultPlan, entry: dict[str, Any], request: Request, model: str, method: str
) -> Response:
    body = entry["body"]
    if method == "countTokens":
        return gemini._count(model, body)
    invalid = gemini._validate(model, body)
    if invalid is not None:
        return invalid
    fault = entry.get("fault")
    text = echo_text(gemini._last_user(body))
    if method == "generateContent":
        entry["completed"] = True
        return JSONResponse(gemini._reply(model, body, text))
    if method != "streamGenerateContent":
        return _google_error(400, f"Unknown method {method}")
    chunks = gemini._pieces(model, body, text)
    if request.query_params.get("alt") != "sse":
        return JSONResponse(chunks)
    frames = [f"data: {json.dumps(c)}\r\n\r\n" for c in chunks]
    return sse_response(plan, entry, frames, fault, gemini._in_stream, fault_at=1)


def create_app(plan: FaultPlan, *, token_lifetime: int = 3599) -> FastAPI:
    """The fake Vertex AI (token endpoint included)."""
    app = FastAPI()
    state = _State(token_lifetime)

    @app.post("/token")
    async def token(request: Request) -> Response:
        entry = await record(plan, request)
        raw = entry["body"] if isinstance(entry["body"], str) else ""
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        if form.get("grant_type") != GRANT:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        problem = _check_assertion(form.get("assertion", ""), f"{request.base_url}token")
        if problem:
            return _grant_error(problem)
        return JSONResponse(
            {"access_token": state.issue(), "expires_in": state.lifetime, "token_type": "Bearer"}
        )

    @app.post("/v1/projects/{project}/locations/{region}/publishers/google/models/{target}")
    async def regional(project: str, region: str, target: str, request: Request) -> Response:
        entry = await record(plan, request)
        model, _, method = target.partition(":")
        early = await _early(plan, entry, method)
        if early is not None:
            return early
        if not state.valid(request.headers.get("authorization", "")):
            return _unauthenticated()
        resource = f"projects/{project}/locations/{region}"
        if project != PROJECT or region not in REGIONS:
            return _google_error(
                403,
                f"Permission 'aiplatform.endpoints.predict' denied on resource "
                f"'//aiplatform.googleapis.com/{resource}/publishers/google/models/{model}' "
                "(or it may not exist).",
                "IAM_PERMISSION_DENIED",
            )
        return _model_error(resource, model) or await _generate(plan, entry, request, model, method)

    @app.post("/v1/publishers/google/models/{target}")
    async def express(target: str, request: Request) -> Response:
        entry = await record(plan, request)
        model, _, method = target.partition(":")
        early = await _early(plan, entry, method)
        if early is not None:
            return early
        if request.query_params.get("key") != EXPRESS_KEY:
            return _google_error(
                400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"
            )
        return _model_error("projects/express", model) or await _generate(
            plan, entry, request, model, method
        )

    return app


async def _early(plan: FaultPlan, entry: dict[str, Any], method: str) -> Response | None:
    """The fault armed for this request: ``tokenize_fault`` for count-tokens requests when
    set, else the next queued one (``connections test`` is a count-tokens request here)."""
    fault = plan.tokenize_fault if method == "countTokens" and plan.tokenize_fault else None
    fault = fault or plan.take()
    entry["fault"] = fault
    return await before_reply(plan, fault, gemini.error_body)
