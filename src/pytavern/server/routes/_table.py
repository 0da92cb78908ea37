"""Every router the app serves, in the order it matches them.

The hot route's router and the small ``meta`` one (``/api/health``) are taken into the app
when it is built (``EAGER``); the rest (``DEFERRED``: building their ~110 routes is about
a sixth of a second, most of a cold start's import time) are loaded by
``pytavern.server.route_loader`` while the server already answers.
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

EAGER: tuple[APIRouter, ...] = (
    generate.router,  # first: the hot route is matched before the ~80 others are tried
    meta.router,
)
DEFERRED: tuple[APIRouter, ...] = (
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
ROUTERS: tuple[APIRouter, ...] = EAGER + DEFERRED
"""What the app serves."""
