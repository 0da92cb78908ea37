"""Pure ASGI middleware: security headers on every answer, and the loopback guards.

* A strict Content-Security-Policy (``default-src 'self'``, no inline script), ``nosniff``,
  no referrer, no framing.
* DNS-rebinding guard: while the server listens on loopback, a request whose ``Host`` is not
  a loopback name is refused.
* Cross-site request guard: a state-changing request whose ``Origin`` is not this server is
  refused (a web page elsewhere cannot drive the API through the user's browser).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "testserver"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def header(scope: Scope, name: bytes) -> str | None:
    """The value of request header ``name`` (lower-case bytes), if present."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _host_name(host: str) -> str:
    return urlsplit(f"//{host}").hostname or host


class GuardMiddleware:
    """Adds the security headers and refuses rebinding and cross-site requests."""

    def __init__(self, app: ASGIApp, *, loopback_only: bool = True) -> None:
        self.app = app
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse or pass the request on, adding the security headers to the answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _forbidden(send, refusal)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> str | None:
        host = header(scope, b"host") or ""
        if self.loopback_only and host and _host_name(host).lower() not in LOOPBACK_NAMES:
            return "this server only answers requests addressed to localhost"
        origin = header(scope, b"origin")
        if (
            scope["method"] not in SAFE_METHODS
            and origin
            and origin != "null"
            and urlsplit(origin).netloc.lower() != host.lower()
        ):
            return "cross-site requests are refused"
        return None


async def _forbidden(send: Send, reason: str) -> None:
    body = (
        '{"error":{"type":"Forbidden","message":"' + reason + '","hint":null,"retryable":false}}'
    ).encode()
    headers = [(b"content-type", b"application/json"), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
