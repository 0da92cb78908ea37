"""AWS Signature Version 4 for request headers (hashlib and hmac only).

``sign`` returns the headers that authenticate one request: ``X-Amz-Date``,
``X-Amz-Security-Token`` (temporary credentials) and ``Authorization``. The canonical URI is
the path exactly as it will be sent, URI-encoded once more (the rule for every service but
S3), so a model ID ``a:0`` sent as ``/model/a%3A0`` is signed as ``/model/a%253A0``. The
signed headers are ``host``, ``x-amz-date`` and, when present, ``x-amz-security-token``.
Checked against AWS's published test vectors (tests/providers/native/test_bedrock.py).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
_UNRESERVED = "-_.~"


@dataclass(frozen=True, slots=True)
class Credentials:
    """An AWS access key (the secret and the session token never show in its repr)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    """The key derived for one day, region and service."""
    key = _hmac(f"AWS4{secret}".encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def canonical_query(query: str) -> str:
    """The query's parameters, each URI-encoded, sorted by name then value."""
    pairs = [
        (quote(k, safe=_UNRESERVED), quote(v, safe=_UNRESERVED))
        for k, v in parse_qsl(query, keep_blank_values=True)
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def host_of(url: str) -> str:
    """The ``Host`` header an HTTP client sends for ``url`` (default ports left out)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def canonical_request(
    method: str, url: str, headers: dict[str, str], payload_hash: str
) -> tuple[str, str]:
    """``(canonical request, signed header names)`` for ``url`` (as sent) and ``headers``."""
    parts = urlsplit(url)
    names = sorted(headers)
    lines = [
        method.upper(),
        quote(parts.path or "/", safe="/" + _UNRESERVED),
        canonical_query(parts.query),
        *(f"{name}:{' '.join(headers[name].split())}" for name in names),
        "",
        ";".join(names),
        payload_hash,
    ]
    return "\n".join(lines), ";".join(names)


def sign(
    method: str,
    url: str,
    body: bytes,
    credentials: Credentials,
    *,
    region: str,
    service: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers that sign this request (``url`` percent-encoded exactly as it is sent)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp, day = moment.strftime("%Y%m%dT%H%M%SZ"), moment.strftime("%Y%m%d")
    signed = {"host": host_of(url), "x-amz-date": stamp}
    if credentials.session_token:
        signed["x-amz-security-token"] = credentials.session_token
    payload_hash = hashlib.sha256(body).hexdigest()
    request, names = canonical_request(method, url, signed, payload_hash)
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(request.encode()).hexdigest()])
    key = signing_key(credentials.secret_access_key, day, region, service)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {
        "X-Amz-Date": stamp,
        "Authorization": f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}",
    }
    if credentials.session_token:
        headers["X-Amz-Security-Token"] = credentials.session_token
    return headers
