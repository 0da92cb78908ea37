"""Every router of the API app (``server.api_app``), in the order it matches them.

The generation route and ``/api/health`` are answered before the API app is loaded, by
``server.eager_routes``; their documented forms here describe them in the schema.
"""

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
    databank,
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
    generate.router,
    meta.router,
    attach.router,
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
    databank.router,
)
"""What the API app serves."""
