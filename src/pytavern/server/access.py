"""Who may talk to the server at all: the IP allow list and HTTP basic auth.

Both are pure ASGI middleware in front of everything (API and static UI). Loopback is always
on the allow list. Basic auth compares in constant time and answers 401 with a
``WWW-Authenticate`` challenge, as SillyTavern does.
"""

from __future__ import annotations

import base64
import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from pytavern.security.allowlist import Network, is_allowed, parse_allow_list
from pytavern.server.middleware import SECURITY_HEADERS, header


class AccessMiddleware:
    """Refuses clients outside the allow list, and requests without the basic-auth password."""

    def __init__(self, app: ASGIApp, *, allow: list[str], basic_auth: str | None = None) -> None:
        self.app = app
        self.networks: tuple[Network, ...] | None = parse_allow_list(allow) if allow else None
        self.credentials = _expected(basic_auth) if basic_auth else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass allowed, authenticated requests on; refuse the others."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("", 0)
        if self.networks is not None and not is_allowed(client[0], self.networks):
            await _refuse(send, 403, "your address is not on this server's allow list")
            return
        if self.credentials is not None and not self._authorized(scope):
            await _refuse(send, 401, "this server needs a user name and password")
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        given = header(scope, b"authorization") or ""
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "basic":
            return False
        assert self.credentials is not None
        return hmac.compare_digest(value.strip().encode(), self.credentials)


def _expected(basic_auth: str) -> bytes:
    return base64.b64encode(basic_auth.encode("utf-8"))


async def _refuse(send: Send, status: int, reason: str) -> None:
    body = (
        '{"error":{"type":"Forbidden","message":"' + reason + '","hint":null,"retryable":false}}'
    ).encode()
    headers = [(b"content-type", b"application/json"), *SECURITY_HEADERS]
    if status == 401:
        headers.append((b"www-authenticate", b'Basic realm="pytavern", charset="UTF-8"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
