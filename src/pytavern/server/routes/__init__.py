"""One router per resource; ``ROUTERS`` is what the app includes under ``/api``."""

from __future__ import annotations

from fastapi import APIRouter

from pytavern.server.routes import (
    attach,
    auth,
    branches,
    characters,
    chats,
    connections,
    data,
    generate,
    groups,
    library,
    messages,
    meta,
    profiles,
    prompt,
    quick_replies,
    regex,
    search,
    tags,
    usage,
)

ROUTERS: tuple[APIRouter, ...] = (
    generate.router,  # first: the hot route is matched before the ~80 others are tried
    attach.router,
    meta.router,
    auth.router,
    connections.router,
    characters.router,
    chats.router,
    messages.router,
    library.personas,
    library.lorebooks,
    library.presets,
    library.settings,
    prompt.router,
    data.router,
    groups.router,
    regex.router,
    search.router,
    branches.router,
    quick_replies.router,
    tags.router,
    usage.router,
    profiles.router,
)
