"""Google service-account credentials: a signed JWT exchanged for an access token.

A service-account JSON key (``type: service_account``) holds ``client_email``,
``private_key`` (PEM, RSA), ``private_key_id``, ``project_id`` and ``token_uri``. We sign an
RS256 JWT asserting the ``cloud-platform`` scope, post it to ``token_uri`` (OAuth 2 JWT
bearer grant, form-encoded) and keep the access token until shortly before it expires.
Nothing here puts the key, the assertion or the token into an error.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pytavern.errors import AuthError, ConfigError, ProviderError, StreamProtocolError

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LIFETIME = 3600
"""Seconds a signed assertion is valid (Google's maximum)."""
MARGIN = 60.0
"""A cached token is renewed this many seconds before it expires."""
KEYS_PAGE = "Google Cloud console > IAM & Admin > Service Accounts > (account) > Keys"


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    """The parts of a service-account key that signing needs (repr hides the key)."""

    client_email: str
    private_key: str
    private_key_id: str
    project_id: str | None
    token_uri: str

    def __repr__(self) -> str:
        return f"ServiceAccount({self.client_email!r})"


def looks_like_service_account(text: str) -> bool:
    """Whether a stored key is a service-account JSON rather than an express-mode key."""
    return text.lstrip().startswith("{")


def parse_service_account(text: str, connection: str) -> ServiceAccount:
    """Read a service-account JSON key; ``ConfigError`` (without its content) when unusable."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    fields = ("client_email", "private_key", "token_uri")
    if not isinstance(data, dict) or not all(isinstance(data.get(f), str) for f in fields):
        raise ConfigError(
            f"connection {connection!r}: the Vertex AI credentials are not a service-account "
            "JSON key (client_email, private_key and token_uri are needed)",
            hint=f"Download a JSON key from {KEYS_PAGE} and store it with "
            f"`pytavern connections add {connection} --api vertex --key - < KEY.json`, "
            "or give its path with --option credentials_path=PATH",
        )
    return ServiceAccount(
        client_email=data["client_email"],
        private_key=data["private_key"],
        private_key_id=str(data.get("private_key_id") or ""),
        project_id=data.get("project_id") if isinstance(data.get("project_id"), str) else None,
        token_uri=data["token_uri"],
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_assertion(account: ServiceAccount, now: float, connection: str) -> str:
    """The RS256-signed JWT asserting the ``cloud-platform`` scope for ``account``."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    header = {"alg": "RS256", "typ": "JWT", "kid": account.private_key_id}
    issued = int(now)
    claims = {
        "iss": account.client_email,
        "scope": SCOPE,
        "aud": account.token_uri,
        "iat": issued,
        "exp": issued + LIFETIME,
    }
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    try:
        key = serialization.load_pem_private_key(account.private_key.encode(), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"connection {connection!r}: the service account's private_key is not an RSA PEM key",
            hint=f"Download a new JSON key from {KEYS_PAGE}",
        )
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


Fetch = Callable[[str, Mapping[str, str]], Any]
"""Posts a form to a URL and returns the JSON answer (raising ``ProviderError``)."""


class TokenSource:
    """Access tokens for one service account, cached until shortly before they expire."""

    def __init__(
        self,
        account: ServiceAccount,
        connection: str,
        *,
        fetch: Fetch,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = account
        self.connection = connection
        self._fetch = fetch
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """A valid access token (fetched when none is cached or it is about to expire)."""
        async with self._lock:
            if self._token is None or self._clock() >= self._expires - MARGIN:
                await self._renew()
            assert self._token is not None
            return self._token

    def forget(self) -> None:
        """Drop the cached token (after the API refused it)."""
        self._token = None

    async def _renew(self) -> None:
        now = self._clock()
        assertion = sign_assertion(self.account, now, self.connection)
        form = {"grant_type": GRANT_TYPE, "assertion": assertion}
        data = await self._fetch(self.account.token_uri, form)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise StreamProtocolError(
                "the token endpoint's answer has no access_token",
                provider=self.connection,
                hint="Check token_uri in the service-account key (normally "
                "https://oauth2.googleapis.com/token)",
            )
        lifetime = data.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
        self._token, self._expires = token, now + seconds


def token_error(error: ProviderError, body: Any) -> ProviderError:
    """Advice for the token endpoint's ``{"error": "invalid_grant", ...}`` refusals."""
    code = body.get("error") if isinstance(body, dict) else None
    if code in ("invalid_grant", "invalid_client", "unauthorized_client"):
        described = body.get("error_description") or code
        return AuthError(
            f"Google refused the service-account key ({code}: {described})",
            provider=error.provider,
            status_code=error.status_code,
            hint=f"The key may be revoked or the account disabled: make a new JSON key in "
            f"{KEYS_PAGE}, and check the computer's clock",
        )
    return error


async def post_form(provider: str, url: str, form: Mapping[str, str], timeout: float) -> Any:
    """POST ``form`` (URL-encoded) to ``url`` and return its JSON, errors mapped as ours."""
    import aiohttp

    from pytavern.providers._http_aiohttp import map_transport_error
    from pytavern.providers._http_config import env_proxy
    from pytavern.providers._http_errors import decode_body, error_from_status

    proxy = env_proxy(url, urllib.request.getproxies_environment())
    failure: ProviderError | None = None
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.post(url, data=dict(form), proxy=proxy) as answer,
        ):
            text = await answer.text(errors="replace")
            status, content_type = answer.status, answer.headers.get("content-type", "")
    except aiohttp.ClientError as exc:
        failure = map_transport_error(provider, exc, url)
    except TimeoutError:
        failure = map_transport_error(provider, aiohttp.ServerTimeoutError(), url)
    if failure is not None:
        raise failure
    body = decode_body(text)
    if status >= 400:
        error = error_from_status(
            provider, status, body, content_type=content_type, retry_after=None
        )
        raise token_error(error, body)
    return body
