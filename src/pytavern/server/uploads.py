"""Limits on what clients send: request body size, and the names of uploaded files.

``BodyLimitMiddleware`` refuses any request body over ``Settings.max_upload_bytes`` with 413,
from its ``Content-Length`` at once, or while a chunked body streams in. ``upload_name``
turns a client-given file name into a plain name: no folders, no control characters.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pytavern.errors import FormatError
from pytavern.server.middleware import SECURITY_HEADERS, header

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UploadTooLargeError(FormatError):
    """A request body is larger than the server accepts (413)."""


def too_large(limit: int) -> UploadTooLargeError:
    """The error for a body over ``limit`` bytes."""
    return UploadTooLargeError(
        f"the request body is larger than {limit} bytes",
        hint="Upload a smaller file, or raise PYTAVERN_MAX_UPLOAD_BYTES",
    )


def upload_name(filename: str, default: str) -> str:
    """The last part of ``filename`` without control characters, or ``default``."""
    name = _CONTROL.sub("", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return default if name.strip(".") == "" else name


class BodyLimitMiddleware:
    """Answers 413 to request bodies over ``limit`` bytes."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared oversized body; count the bytes of the others."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > self.limit:
                await _refuse(send, self.limit)
                return
            # The server reads no more than the declared length: nothing left to count
            # (a streamed reply's every frame went through the counting wrapper before).
            await self.app(scope, receive, send)
            return
        await _Counted(self.limit, receive, send).run(self.app, scope)


class _Counted:
    """One request whose body is counted; past the limit its answer becomes a 413."""

    def __init__(self, limit: int, receive: Receive, send: Send) -> None:
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.started = False
        self._receive = receive
        self._send = send

    async def run(self, app: ASGIApp, scope: Scope) -> None:
        """Run ``app``; whatever it answers to an oversized body, the client gets 413."""
        try:
            await app(scope, self.receive, self.send)
        except UploadTooLargeError:
            if self.started:
                raise
        if self.exceeded and not self.started:
            self.started = True
            await _refuse(self._send, self.limit)

    async def receive(self) -> Message:
        """The next body message, counted."""
        message = await self._receive()
        self.received += len(message.get("body", b""))
        if self.received > self.limit:
            self.exceeded = True
            raise too_large(self.limit)
        return message

    async def send(self, message: Message) -> None:
        """Pass the app's answer on, or replace it with a 413 once the body was too large."""
        if self.exceeded and not self.started:
            if message["type"] == "http.response.start":
                self.started = True
                await _refuse(self._send, self.limit)
            return
        if self.exceeded:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


async def _refuse(send: Send, limit: int) -> None:
    error = too_large(limit)
    body = json.dumps({"error": error.to_dict()}).encode()
    headers = [(b"content-type", b"application/json"), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
