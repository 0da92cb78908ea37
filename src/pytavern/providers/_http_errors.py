"""What an HTTP backend's error answers mean: status and body mapped onto the error tree.

Pure functions (no I/O): the status of a refused request with its body becomes an
``AuthError``, ``RateLimitError``... with a hint; a web page where an API was expected is
recognised; ``safe_origin`` names a server without ever showing a URL's query string.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from pytavern.errors import (
    AuthError,
    BadRequestError,
    ConnectFailedError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamNotFoundError,
    UpstreamServerError,
    UpstreamTimeoutError,
)

_TRANSPORT: dict[str, tuple[type[ProviderError], str, str]] = {
    "connect-timeout": (
        UpstreamTimeoutError,
        "timed out connecting to {where}",
        "Check that the server is running and reachable at that address",
    ),
    "no-answer": (
        UpstreamTimeoutError,
        "no answer from {where} in time",
        "The backend may be busy or stuck; try again, or raise the timeout",
    ),
    "proxy": (
        ConnectFailedError,
        "could not connect to the proxy for {where}",
        "Check the proxy in HTTP_PROXY / HTTPS_PROXY, or list the host in NO_PROXY",
    ),
    "dns": (
        ConnectFailedError,
        "the host name in {where} could not be found (DNS)",
        "Check the spelling of the host in the URL, and your network",
    ),
    "tls": (
        ConnectFailedError,
        "the TLS handshake with {where} failed",
        "Check whether the server speaks https or http, and its certificate",
    ),
    "connect": (
        ConnectFailedError,
        "could not connect to {where}{detail}",
        "Start the backend server, or fix the host and port in the URL",
    ),
    "redirect": (
        ConnectFailedError,
        "{where} redirected to a URL that is not valid",
        "Check the URL: give the API's own address rather than one that redirects",
    ),
    "url": (
        ConnectFailedError,
        "the URL {detail} is not valid",
        "Give a full URL starting with http:// or https://",
    ),
    "header": (
        ConnectFailedError,
        "the request header {detail} holds a line break",
        "Check the API key and custom headers of this connection for stray line breaks",
    ),
    "broken": (
        StreamInterruptedError,
        "the connection to {where} broke{detail}",
        "Try again; if it keeps happening, check the server's log",
    ),
}


def refused_detail(cause: BaseException | None) -> str:
    """``" (connection refused)"`` when ``cause`` (a failed connect) was a refusal, else
    ``""``: the detail a ``connect`` failure's message takes."""
    reason = str(cause).lower()  # happy eyeballs joins several attempts into one OSError
    refused = isinstance(cause, ConnectionRefusedError) or "connect call failed" in reason
    return " (connection refused)" if refused else ""


def transport_error(provider: str, kind: str, url: str, detail: str = "") -> ProviderError:
    """The error for a transport failure of ``kind`` (a key of ``_TRANSPORT``) before a
    reply arrived, naming only the URL's origin; ``detail`` completes some messages."""
    error_type, message, hint = _TRANSPORT[kind]
    text = message.format(where=safe_origin(url), detail=detail)
    return error_type(text, provider=provider, hint=hint)


def parse_retry_after(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header given in seconds; dates are ignored."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def extract_error_message(body: Any) -> str | None:
    """Find the human message in a backend's error body, whatever its shape."""
    if isinstance(body, dict):
        for key in ("error", "message", "detail", "msg"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict):
                inner = extract_error_message(value)
                if inner:
                    return inner
            if isinstance(value, list) and value:
                inner = extract_error_message(value[0])
                if inner:
                    return inner
    if isinstance(body, list) and body:
        return extract_error_message(body[0])
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return None


def looks_like_html(content_type: str, text: str) -> bool:
    """True when a body is a web page rather than an API answer."""
    head = text.lstrip()[:200].lower()
    return "text/html" in content_type or head.startswith(("<!doctype html", "<html"))


def decode_body(text: str) -> Any:
    """Parse ``text`` as JSON, or return it unchanged when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def error_from_status(
    provider: str, status: int, body: Any, *, content_type: str = "", retry_after: float | None
) -> ProviderError:
    """Map an HTTP error status and body onto the error tree, with advice."""
    text = body if isinstance(body, str) else ""
    if isinstance(body, str) and looks_like_html(content_type, text) and status in (200, 404, 405):
        return web_page_error(provider, status)
    detail = extract_error_message(body)
    said = f": {detail}" if detail else ""
    if status in (401, 403):
        return AuthError(
            f"the key was refused (HTTP {status}){said}",
            provider=provider,
            status_code=status,
            hint="Check the API key: store a valid one with "
            "`pytavern connections add NAME --api TYPE --key -`, or set it in the environment",
        )
    if status == 404:
        return UpstreamNotFoundError(
            f"not found (HTTP 404){said}",
            provider=provider,
            status_code=status,
            hint="Check the URL (give the server's base URL, e.g. http://127.0.0.1:5000) "
            "and the model name (`pytavern connections models NAME` lists them)",
        )
    if status == 429:
        return RateLimitError(
            f"rate limited (HTTP 429){said}",
            provider=provider,
            retry_after=retry_after,
            hint="Wait a moment and try again, or check the plan and quota of this key",
        )
    if status >= 500:
        return UpstreamServerError(
            f"the server failed (HTTP {status}){said}",
            provider=provider,
            status_code=status,
            hint="The backend is down or overloaded; try again in a moment",
        )
    return BadRequestError(
        f"the request was refused (HTTP {status}){said}",
        provider=provider,
        status_code=status,
        hint="Check the model name and the sampler settings this backend accepts",
    )


def web_page_error(provider: str, status: int | None = None) -> StreamProtocolError:
    """The error for a URL that serves a web page instead of the API."""
    return StreamProtocolError(
        "the URL points at a web page, not at the API",
        provider=provider,
        status_code=status,
        hint="Use the API's base URL (for most servers http://HOST:PORT or "
        "http://HOST:PORT/v1), not the address of its web interface",
    )


def safe_origin(url: str) -> str:
    """The scheme, host and port of ``url``: never its credentials, path or query string
    (Gemini-style keys live in the query)."""
    try:
        parsed = urlsplit(url)
        host, port = parsed.hostname, parsed.port
    except ValueError:
        return "the server"
    if not parsed.scheme or not host:
        return "the server"
    if ":" in host:
        host = f"[{host}]"
    return f"{parsed.scheme}://{host}{f':{port}' if port else ''}"


def scrub(error: ProviderError, secret: str | None) -> ProviderError:
    """Make the error one line and remove ``secret`` from it, in place; return it."""
    error.message = " ".join(error.message.split())
    if secret and len(secret) >= 4:
        error.message = error.message.replace(secret, "***")
        if error.hint:
            error.hint = error.hint.replace(secret, "***")
    error.args = (error.message,)
    return error
