"""One router per resource, each with its whole path under ``/api``; ``ROUTERS`` is what
the app serves.

The app takes the routers' routes into its own list as they are rather than
``include_router`` them: FastAPI builds an included route a second time (its parameters,
models and serializers) on the first request, which cost ~0.1 s of every cold start, and
matches every request through an extra layer per router."""

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
