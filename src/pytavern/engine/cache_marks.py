"""Where a request's prompt-cache breakpoints are, for the prompt view.

When a turn goes to a Claude connection with ``prompt_cache`` on, the chat keeps (in its
private metadata, ``prompt_cache``) where the breakpoints were placed: after the system
block and after which message of the history, with a short preview of each, so the prompt
view can show what Claude is asked to cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytavern.providers import _anthropic_wire as claude_wire
from pytavern.types import GenerationRequest

METADATA_KEY = "prompt_cache"
PREVIEW = 60


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def cache_marks(
    api: str, connection: str, options: Mapping[str, Any], request: GenerationRequest
) -> dict[str, Any] | None:
    """The breakpoints of ``request`` on a caching Claude connection, else ``None``."""
    settings = claude_wire.cache_settings(options) if api == "claude" else None
    if settings is None:
        return None
    depth, ttl = settings
    system, messages = claude_wire.build_messages(request)
    marks: list[dict[str, Any]] = []
    if system:
        marks.append({"where": "system", "preview": _preview(system)})
    index = claude_wire.breakpoint_index(len(messages), depth)
    if index is not None:
        message = messages[index]
        marks.append(
            {
                "where": "history",
                "message": index + 1,
                "of": len(messages),
                "role": message["role"],
                "preview": _preview(str(message["content"])),
            }
        )
    return {"connection": connection, "ttl": ttl, "depth": depth, "breakpoints": marks}
