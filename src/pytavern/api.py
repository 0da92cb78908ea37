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

import asyncio
import os
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from pytavern.engine.services import (
    CharacterRecord,
    ConnectionCheck,
    ConnectionInput,
    ConnectionView,
    GenerationMode,
    MessageRecord,
    Services,
    TurnResult,
)
from pytavern.errors import StoreError
from pytavern.events import (
    ErrorEvent,
    Finished,
    ReasoningDelta,
    StatusEvent,
    StreamEvent,
    TextDelta,
    UsageEvent,
)
from pytavern.settings import Settings
from pytavern.types import ModelInfo, Usage

__all__ = [
    "AsyncChat",
    "AsyncTavern",
    "Character",
    "Chat",
    "ConnectionCheck",
    "ConnectionView",
    "ErrorEvent",
    "Finished",
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

T = TypeVar("T")
DataDir = str | os.PathLike[str] | None


@dataclass(frozen=True, slots=True)
class Reply:
    """A finished reply: its text as saved (after ``continue_``, the whole extended reply),
    why it ended, the tokens it took, and the id of the message it is in."""

    text: str
    finish_reason: str
    usage: Usage
    message_id: int | None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a chat, with the swipe it shows."""

    id: int
    role: str
    name: str
    text: str
    status: str
    swipe_index: int
    swipe_count: int

    @property
    def is_user(self) -> bool:
        """True for the user's own messages."""
        return self.role == "user"


@dataclass(frozen=True, slots=True)
class Character:
    """A character: its id, name and SillyTavern card (a V2/V3 dict)."""

    id: int
    name: str
    card: dict[str, Any] = field(repr=False)


def _message(record: MessageRecord) -> Message:
    return Message(
        id=record.id,
        role=record.role,
        name=record.name,
        text=record.text,
        status=record.swipe.status,
        swipe_index=record.active_swipe,
        swipe_count=record.swipe_count,
    )


def _character(record: CharacterRecord) -> Character:
    return Character(id=record.id, name=record.name, card=record.card)


def _reply(result: TurnResult, services: Services) -> Reply:
    result.raise_error()
    saved = result.message_id
    return Reply(
        text=services.messages.get(saved).text if saved is not None else result.reply,
        finish_reason=result.finish_reason,
        usage=result.usage,
        message_id=result.message_id,
        model=result.model,
    )


def _settings(data_dir: DataDir) -> Settings:
    return Settings(data_dir=Path(data_dir)) if data_dir is not None else Settings()


class AsyncChat:
    """One chat, driven with ``await``. Get one from :meth:`AsyncTavern.new_chat`."""

    def __init__(self, services: Services, chat_id: int, connection: str | None) -> None:
        self._services = services
        self.id = chat_id
        """The chat's id (``AsyncTavern.chat(id)`` opens it again)."""
        self.connection = connection
        """The connection its turns use (None: the default connection)."""

    def events(
        self, text: str | None = None, mode: GenerationMode = "send"
    ) -> AsyncGenerator[StreamEvent]:
        """Run one turn and yield its events as they arrive: the typed union
        ``TextDelta | ReasoningDelta | StatusEvent | UsageEvent | ErrorEvent | Finished``.

        ``mode`` is ``send`` (``text`` is the user's message), ``regenerate``, ``swipe``,
        ``continue`` or ``impersonate``. Errors arrive as an ``ErrorEvent``, not raised.
        """
        return self._services.generation.stream(self.id, mode, text, connection=self.connection)

    async def _turn(self, mode: GenerationMode, text: str | None) -> Reply:
        result = await self._services.generation.run(
            self.id, mode, text, connection=self.connection
        )
        return _reply(result, self._services)

    async def send(self, text: str) -> Reply:
        """Send ``text`` as the user and return the character's reply once it is complete."""
        return await self._turn("send", text)

    async def stream(self, text: str) -> AsyncGenerator[str]:
        """Send ``text`` and yield the reply's text in pieces as they arrive; a failed turn
        raises its error after the pieces that arrived."""
        result = TurnResult(self.id)
        async with aclosing(self.events(text)) as events:
            async for event in events:
                result.feed(event)
                if isinstance(event, TextDelta):
                    yield event.text
        result.raise_error()

    async def regenerate(self) -> Reply:
        """A new reply in place of the last one (the old one stays as a swipe)."""
        return await self._turn("regenerate", None)

    async def swipe(self) -> Reply:
        """Another reply beside the last one, shown instead of it."""
        return await self._turn("swipe", None)

    async def continue_(self) -> Reply:
        """Extend the last reply; the returned text is the whole extended reply."""
        return await self._turn("continue", None)

    @property
    def messages(self) -> list[Message]:
        """The chat's messages, oldest first."""
        return [_message(m) for m in self._services.chats.history(self.id)]


class AsyncCharacters:
    """The characters of the data folder."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def all(self) -> list[Character]:
        """Every character, by name."""
        return [_character(c) for c in self._services.characters.all()]

    def get(self, which: str | int) -> Character:
        """A character by name or id (``NotFoundError`` when there is none)."""
        return _character(self._services.characters.pick(which))

    def import_file(self, path: str | os.PathLike[str]) -> Character:
        """Import a SillyTavern character card: a PNG, CharX or JSON file."""
        file = Path(path)
        try:
            data = file.read_bytes()
        except OSError as error:
            raise StoreError(f"{file}: cannot be read ({error.strerror})") from None
        return _character(self._services.characters.import_bytes(data, file.name))

    def create(self, card: dict[str, Any]) -> Character:
        """Create a character from a card dict (V1 flat, or V2/V3 with ``data``)."""
        return _character(self._services.characters.create(card))


class AsyncConnections:
    """The connections to LLM backends."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def add(
        self,
        name: str,
        api: str,
        *,
        url: str | None = None,
        model: str | None = None,
        key: str | None = None,
        key_env: str | None = None,
        options: dict[str, Any] | None = None,
        default: bool = False,
    ) -> ConnectionView:
        """Add a connection (or change the one of that name) and describe it.

        ``api`` is an API type (``openai``, ``anthropic``, ``koboldcpp``...). The ``key`` is
        stored apart and never shown again; ``key_env`` names an environment variable to
        read it from at each use instead. ``default`` makes it the default connection.
        """
        spec = ConnectionInput(
            name=name,
            api=api,
            url=url,
            model=model,
            options=dict(options or {}),
            key=key,
            key_env=key_env,
            make_default=default,
        )
        return self._services.connections.add(spec)

    def all(self) -> list[ConnectionView]:
        """Every connection."""
        return self._services.connections.all()

    def remove(self, name: str) -> None:
        """Delete a connection and its stored key."""
        self._services.connections.remove(name)

    def set_default(self, name: str) -> ConnectionView:
        """Make ``name`` the default connection."""
        return self._services.connections.set_default(name)

    async def test(self, name: str) -> ConnectionCheck:
        """Check a connection for real; a failure says what to do in ``status.hint``."""
        return await self._services.connections.test(name)

    async def models(self, name: str) -> list[ModelInfo]:
        """The models the connection's backend offers."""
        return await self._services.connections.models(name)


class AsyncTavern:
    """A data folder opened for ``await``-style use. Get one from :func:`open_async`."""

    def __init__(self, data_dir: DataDir = None) -> None:
        self._settings = _settings(data_dir)
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        """The engine services underneath (for what this API does not wrap yet)."""
        if self._services is None:
            raise StoreError(
                "the tavern is not open", hint="Use `async with pytavern.open_async() as tavern`"
            )
        return self._services

    @property
    def data_dir(self) -> Path:
        """The data folder."""
        return self._settings.data_dir

    @property
    def characters(self) -> AsyncCharacters:
        """The characters."""
        return AsyncCharacters(self.services)

    @property
    def connections(self) -> AsyncConnections:
        """The connections to LLM backends."""
        return AsyncConnections(self.services)

    async def open(self) -> Self:
        """Open the data folder (creating and migrating it on first use)."""
        if self._services is None:
            self._services = Services.open(self._settings)
        return self

    async def aclose(self) -> None:
        """Close the backends' connections and the database."""
        services, self._services = self._services, None
        if services is not None:
            await services.aclose()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def new_chat(
        self, character: str | int | None = None, *, connection: str | None = None
    ) -> AsyncChat:
        """Start a chat with a character (by name or id; the first one when None); it opens
        with the character's greeting. Its turns use ``connection`` (default: the default)."""
        record = self.services.characters.pick(character)
        chat = self.services.chats.start(record.id)
        return AsyncChat(self.services, chat.id, connection)

    async def chat(self, chat_id: int, *, connection: str | None = None) -> AsyncChat:
        """Open an existing chat by id."""
        return AsyncChat(self.services, self.services.chats.get(chat_id).id, connection)


class _Portal:
    """An event loop in a background thread, and calls into it from other threads."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pytavern", daemon=True)
        self._thread.start()

    def call(self, awaitable: Awaitable[T]) -> T:
        """Run ``awaitable`` on the loop and wait for its result. When the wait is broken
        (Ctrl-C), the work is cancelled and its cleanup finished before this raises."""
        done = threading.Event()

        async def tracked() -> T:
            try:
                return await awaitable
            finally:
                done.set()

        future = asyncio.run_coroutine_threadsafe(tracked(), self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            done.wait(timeout=30)
            raise

    def iterate(self, generator: AsyncGenerator[T]) -> Iterator[T]:
        """Iterate an async generator from this thread; it is closed however iteration ends."""
        try:
            while True:
                try:
                    yield self.call(anext(generator))
                except StopAsyncIteration:
                    return
        finally:
            self.call(generator.aclose())

    @property
    def closed(self) -> bool:
        """Whether the loop has been stopped."""
        return self._loop.is_closed()

    def close(self) -> None:
        """Stop the loop and its thread."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        if not self._thread.is_alive():
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()


class Chat:
    """One chat, driven synchronously. Get one from :meth:`Tavern.new_chat`."""

    def __init__(self, portal: _Portal, chat: AsyncChat) -> None:
        self._portal = portal
        self._chat = chat
        self.id = chat.id
        """The chat's id (``Tavern.chat(id)`` opens it again)."""

    @property
    def connection(self) -> str | None:
        """The connection its turns use (None: the default connection); settable."""
        return self._chat.connection

    @connection.setter
    def connection(self, name: str | None) -> None:
        self._chat.connection = name

    def send(self, text: str) -> Reply:
        """Send ``text`` as the user and return the character's reply once it is complete."""
        return self._portal.call(self._chat.send(text))

    def stream(self, text: str) -> Iterator[str]:
        """Send ``text`` and yield the reply's text in pieces as they arrive. Breaking out
        of the loop stops the reply (what arrived is kept, marked incomplete)."""
        return self._portal.iterate(self._chat.stream(text))

    def events(
        self, text: str | None = None, mode: GenerationMode = "send"
    ) -> Iterator[StreamEvent]:
        """Run one turn and yield its typed events (see :meth:`AsyncChat.events`)."""
        return self._portal.iterate(self._chat.events(text, mode))

    def regenerate(self) -> Reply:
        """A new reply in place of the last one (the old one stays as a swipe)."""
        return self._portal.call(self._chat.regenerate())

    def swipe(self) -> Reply:
        """Another reply beside the last one, shown instead of it."""
        return self._portal.call(self._chat.swipe())

    def continue_(self) -> Reply:
        """Extend the last reply; the returned text is the whole extended reply."""
        return self._portal.call(self._chat.continue_())

    @property
    def messages(self) -> list[Message]:
        """The chat's messages, oldest first."""
        return self._portal.call(_later(lambda: self._chat.messages))


async def _later(function: Callable[[], T]) -> T:
    """Call ``function`` on the loop's thread (where the database is used)."""
    return function()


class _SyncNamespace:
    """Runs the methods of an async namespace (characters, connections) on the loop."""

    def __init__(self, portal: _Portal, target: object) -> None:
        self._portal = portal
        self._target = target

    def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self._target, name)

        async def run() -> Any:
            result = method(*args, **kwargs)
            return await result if isinstance(result, Coroutine) else result

        return self._portal.call(run())


class Characters(_SyncNamespace):
    """The characters of the data folder."""

    def all(self) -> list[Character]:
        """Every character, by name."""
        result: list[Character] = self._run("all")
        return result

    def get(self, which: str | int) -> Character:
        """A character by name or id (``NotFoundError`` when there is none)."""
        result: Character = self._run("get", which)
        return result

    def import_file(self, path: str | os.PathLike[str]) -> Character:
        """Import a SillyTavern character card: a PNG, CharX or JSON file."""
        result: Character = self._run("import_file", path)
        return result

    def create(self, card: dict[str, Any]) -> Character:
        """Create a character from a card dict (V1 flat, or V2/V3 with ``data``)."""
        result: Character = self._run("create", card)
        return result


class Connections(_SyncNamespace):
    """The connections to LLM backends."""

    def add(
        self,
        name: str,
        api: str,
        *,
        url: str | None = None,
        model: str | None = None,
        key: str | None = None,
        key_env: str | None = None,
        options: dict[str, Any] | None = None,
        default: bool = False,
    ) -> ConnectionView:
        """Add a connection (or change the one of that name) and describe it (see
        :meth:`AsyncConnections.add`)."""
        settings = {"url": url, "model": model, "key": key, "key_env": key_env}
        result: ConnectionView = self._run(
            "add", name, api, **settings, options=options, default=default
        )
        return result

    def all(self) -> list[ConnectionView]:
        """Every connection."""
        result: list[ConnectionView] = self._run("all")
        return result

    def remove(self, name: str) -> None:
        """Delete a connection and its stored key."""
        self._run("remove", name)

    def set_default(self, name: str) -> ConnectionView:
        """Make ``name`` the default connection."""
        result: ConnectionView = self._run("set_default", name)
        return result

    def test(self, name: str) -> ConnectionCheck:
        """Check a connection for real; a failure says what to do in ``status.hint``."""
        result: ConnectionCheck = self._run("test", name)
        return result

    def models(self, name: str) -> list[ModelInfo]:
        """The models the connection's backend offers."""
        result: list[ModelInfo] = self._run("models", name)
        return result


class Tavern:
    """A data folder opened for synchronous use. Get one from :func:`open`."""

    def __init__(self, data_dir: DataDir = None) -> None:
        self._portal = _Portal()
        self._tavern = AsyncTavern(data_dir)
        try:
            self._portal.call(self._tavern.open())
        except BaseException:
            self._portal.close()
            raise
        self.characters = Characters(self._portal, self._tavern.characters)
        """The characters."""
        self.connections = Connections(self._portal, self._tavern.connections)
        """The connections to LLM backends."""

    @property
    def data_dir(self) -> Path:
        """The data folder."""
        return self._tavern.data_dir

    def new_chat(
        self, character: str | int | None = None, *, connection: str | None = None
    ) -> Chat:
        """Start a chat with a character (by name or id; the first one when None); it opens
        with the character's greeting. Its turns use ``connection`` (default: the default)."""
        chat = self._portal.call(self._tavern.new_chat(character, connection=connection))
        return Chat(self._portal, chat)

    def chat(self, chat_id: int, *, connection: str | None = None) -> Chat:
        """Open an existing chat by id."""
        return Chat(
            self._portal, self._portal.call(self._tavern.chat(chat_id, connection=connection))
        )

    def close(self) -> None:
        """Close the data folder and stop the background event loop (safe to call twice)."""
        if self._portal.closed:
            return
        try:
            self._portal.call(self._tavern.aclose())
        finally:
            self._portal.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()


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
