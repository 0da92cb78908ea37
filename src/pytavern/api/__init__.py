"""pytavern's public Python API: open a data folder, chat with characters, stream replies.

Synchronous, for scripts::

    import pytavern

    with pytavern.open() as tavern:  # the default data folder, or open(data_dir="...")
        chat = tavern.new_chat("Wren")  # a character by name or id
        reply = chat.send("Hello, who are you?")
        print(reply.text, reply.finish_reason)
        for piece in chat.stream("And then?"):
            print(piece, end="")

Asynchronous, for programs that run an event loop::

    async with pytavern.open_async() as tavern:
        chat = await tavern.new_chat("Wren")
        reply = await chat.send("Hi")
        async for event in chat.events("Go on"):  # TextDelta, StatusEvent, Finished...
            ...

Both run over the same engine services as the CLI and the server. A failed turn raises the
error of :mod:`pytavern.errors` it was (every one has ``message`` and ``hint``); the part
of the reply that arrived is kept in the chat, marked incomplete.

The synchronous API runs its event loop in a background thread, so it can be used from any
script (and from inside a notebook whose loop is already running); ``close()`` (or leaving
the ``with`` block) stops it.
"""

from __future__ import annotations

from pytavern.api.aio import (
    AsyncCharacters,
    AsyncChat,
    AsyncConnections,
    AsyncDatabank,
    AsyncGroupChat,
    AsyncTavern,
)
from pytavern.api.sync import Characters, Chat, Connections, Databank, GroupChat, Tavern
from pytavern.api.values import Character, DataDir, Document, MemberReply, Message, Reply
from pytavern.engine.services import ConnectionCheck, ConnectionView
from pytavern.events import (
    ErrorEvent,
    Finished,
    ReasoningDelta,
    StatusEvent,
    StreamEvent,
    TextDelta,
    UsageEvent,
)
from pytavern.types import Usage

__all__ = [
    "AsyncCharacters",
    "AsyncChat",
    "AsyncConnections",
    "AsyncDatabank",
    "AsyncGroupChat",
    "AsyncTavern",
    "Character",
    "Characters",
    "Chat",
    "ConnectionCheck",
    "ConnectionView",
    "Connections",
    "Databank",
    "Document",
    "ErrorEvent",
    "Finished",
    "GroupChat",
    "MemberReply",
    "Message",
    "ReasoningDelta",
    "Reply",
    "StatusEvent",
    "StreamEvent",
    "Tavern",
    "TextDelta",
    "Usage",
    "UsageEvent",
    "open",
    "open_async",
]


def open(data_dir: DataDir = None) -> Tavern:
    """Open a data folder for synchronous use: ``with pytavern.open() as tavern: ...``.

    ``data_dir`` defaults to ``PYTAVERN_DATA_DIR`` or the user's data folder; it is created
    and migrated on first use, with the default character and the built-in model connection.
    """
    return Tavern(data_dir)


def open_async(data_dir: DataDir = None) -> AsyncTavern:
    """A data folder for ``await``-style use: ``async with pytavern.open_async() as t: ...``
    (or ``tavern = await pytavern.open_async().open()`` and ``await tavern.aclose()``)."""
    return AsyncTavern(data_dir)
