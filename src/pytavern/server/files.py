"""Files over HTTP, shared by the routers: reading uploads within the limit, answering
downloads, and the OpenAPI descriptions of raw bodies."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request, Response

from pytavern.server.uploads import too_large

IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}
"""OpenAPI: a request body that is an image."""
PNG_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "A PNG image"}
}
"""OpenAPI: an answer that is a PNG image."""


def download(body: bytes, media_type: str, filename: str) -> Response:
    """A file download answer."""
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def safe_filename(name: str) -> str:
    """A file name made of safe characters only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "character"


async def read_limited(request: Request) -> bytes:
    """The request body, refused (413) past the server's ``max_upload_bytes``."""
    limit: int = request.app.state.settings.max_upload_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
