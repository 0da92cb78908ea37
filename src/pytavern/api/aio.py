"""The asynchronous Python API: ``async with pytavern.open_async() as tavern``."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from pytavern.api.values import (
    Character,
    DataDir,
    Document,
    MemberReply,
    Message,
    Reply,
    character_of,
    document_of,
    member_replies_of,
    message_of,
    reply_of,
    settings_for,
)
from pytavern.engine.chat_options import ChatOptions
from pytavern.engine.services import (
    ConnectionCheck,
    ConnectionInput,
    ConnectionView,
    GenerationMode,
    Services,
    TurnResult,
    UsageReport,
)
from pytavern.errors import StoreError
from pytavern.events import StreamEvent, TextDelta
from pytavern.types import ModelInfo

PathLike = str | os.PathLike[str]
"""A file's path."""


def _read_file(path: PathLike) -> tuple[str, bytes]:
    """A file's name and bytes (``StoreError`` when it cannot be read)."""
    file = Path(path)
    try:
        return file.name, file.read_bytes()
    except OSError as error:
        raise StoreError(f"{file}: cannot be read ({error.strerror})") from None


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
        ``continue``, ``impersonate`` or ``summarize`` (see :meth:`summarize`). Errors
        arrive as an ``ErrorEvent``, not raised.
        """
        return self._services.generation.stream(self.id, mode, text, connection=self.connection)

    async def _turn(self, mode: GenerationMode, text: str | None) -> Reply:
        result = await self._services.generation.run(
            self.id, mode, text, connection=self.connection
        )
        return reply_of(result, self._services)

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
        return [message_of(m) for m in self._services.chats.history(self.id)]

    async def summarize(self) -> str:
        """Make a new summary of the chat so far with its connection, keep it as the
        chat's summary (later prompts carry it) and return it; no message is added. A
        failed one raises its error and keeps the summary there was."""
        result = await self._services.generation.run(
            self.id, "summarize", None, connection=self.connection
        )
        result.raise_error()
        return self.summary

    @property
    def summary(self) -> str:
        """The chat's summary ("" when it has none)."""
        summary: str = self._services.chats.options(self.id)["summary"]
        return summary

    def set_summary(self, text: str) -> None:
        """Replace the chat's summary with ``text`` ("" removes it)."""
        self._services.chats.set_options(self.id, ChatOptions(summary=text))

    def attach(self, path: PathLike) -> Document:
        """Attach a text file (``.txt``, ``.md``, ``.html``, ``.json``, ``.csv``), a PDF, a
        ``.docx`` or an ``.epub`` to this chat's Data Bank: its parts sharing words with the
        newest messages go into the prompt. Other files raise ``ConfigError``."""
        name, data = _read_file(path)
        return document_of(self._services.databank.add_file(name, data, chat_id=self.id))

    def attach_text(self, name: str, text: str) -> Document:
        """Attach ``text`` to this chat's Data Bank as a document named ``name``."""
        return document_of(self._services.databank.add_text(name, text, chat_id=self.id))

    @property
    def documents(self) -> list[Document]:
        """The documents the chat may use: every chat's, its character's and its own (the
        ones switched off too, with ``enabled`` False)."""
        return [document_of(d) for d in self._services.databank.list(chat_id=self.id)]


class AsyncGroupChat:
    """A group chat, driven with ``await``: several characters answer in one chat, in the
    order the group's activation strategy picks. Get one from
    :meth:`AsyncTavern.new_group`."""

    def __init__(self, services: Services, group_id: int, connection: str | None) -> None:
        self._services = services
        self.id = group_id
        """The group's id (``AsyncTavern.group(id)`` opens it again)."""
        self.connection = connection
        """The connection its turns use (None: the default connection)."""

    @property
    def name(self) -> str:
        """The group's name."""
        return self._services.groups.get(self.id).name

    @property
    def members(self) -> list[str]:
        """The members' names, in the group's order."""
        return [m.name for m in self._services.groups.get(self.id).members]

    @property
    def chat_id(self) -> int | None:
        """The id of the group's current chat (None until its first turn makes one)."""
        return self._services.groups.get(self.id).chat_id

    async def send(self, text: str | None) -> list[MemberReply]:
        """Say ``text`` as the user (None: the group goes on by itself) and return the
        replies of the members who answered, in order; none may answer (a manual group
        waits for :meth:`trigger`). A member's failed turn raises its error."""
        turn = await self._services.groups.send(self.id, text, connection=self.connection)
        return member_replies_of(turn, self._services)

    def events(self, text: str | None) -> AsyncGenerator[StreamEvent]:
        """Say ``text`` (None: the group goes on by itself) and yield the turn's events as
        they arrive: a ``StatusEvent`` whose ``speaker`` names each member before its
        text, one ``Finished`` at the end. Errors arrive as an ``ErrorEvent``."""
        return self._services.groups.events(self.id, "send", text=text, connection=self.connection)

    async def trigger(self, member: str | int) -> MemberReply:
        """Have one member (by name or character id) answer now, muted or not."""
        turn = await self._services.groups.trigger(self.id, member, connection=self.connection)
        return member_replies_of(turn, self._services)[0]

    async def _redo(self, mode: str) -> MemberReply:
        turn = await self._services.groups.redo(self.id, mode, connection=self.connection)
        return member_replies_of(turn, self._services)[0]

    async def regenerate(self) -> MemberReply:
        """A new reply in place of the last member's reply (the old one stays a swipe)."""
        return await self._redo("regenerate")

    async def swipe(self) -> MemberReply:
        """Another reply beside the last member's reply, shown instead of it."""
        return await self._redo("swipe")

    async def continue_(self) -> MemberReply:
        """Extend the last member's reply; the text returned is the whole reply."""
        return await self._redo("continue")

    @property
    def messages(self) -> list[Message]:
        """The group chat's messages, oldest first (``name`` says who spoke)."""
        chat_id = self.chat_id
        if chat_id is None:
            return []
        return [message_of(m) for m in self._services.chats.history(chat_id)]


class AsyncCharacters:
    """The characters of the data folder."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def all(self) -> list[Character]:
        """Every character, by name."""
        return [character_of(c) for c in self._services.characters.all()]

    def get(self, which: str | int) -> Character:
        """A character by name or id (``NotFoundError`` when there is none)."""
        return character_of(self._services.characters.pick(which))

    def import_file(self, path: PathLike) -> Character:
        """Import a SillyTavern character card: a PNG, CharX or JSON file."""
        name, data = _read_file(path)
        return character_of(self._services.characters.import_bytes(data, name))

    def create(self, card: dict[str, Any]) -> Character:
        """Create a character from a card dict (V1 flat, or V2/V3 with ``data``)."""
        return character_of(self._services.characters.create(card))


class AsyncDatabank:
    """The Data Bank: documents the prompt draws on, attached to every chat or to a
    character's chats (a chat's own: :meth:`AsyncChat.attach`). On each turn the parts of
    the documents in reach that share words with the newest messages go into the prompt
    (the ``databank`` generation settings say how many and where)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def _character_id(self, character: str | int | None) -> int | None:
        return None if character is None else self._services.characters.pick(character).id

    def add(self, path: PathLike, *, character: str | int | None = None) -> Document:
        """Attach a text file (``.txt``, ``.md``, ``.html``, ``.json``, ``.csv``), a PDF, a
        ``.docx`` or an ``.epub`` to every chat, or to ``character``'s chats (by name or id).
        Other files raise ``ConfigError``."""
        name, data = _read_file(path)
        character_id = self._character_id(character)
        return document_of(self._services.databank.add_file(name, data, character_id=character_id))

    def add_text(self, name: str, text: str, *, character: str | int | None = None) -> Document:
        """Attach ``text`` as a document named ``name`` (to whom as :meth:`add`)."""
        character_id = self._character_id(character)
        return document_of(self._services.databank.add_text(name, text, character_id=character_id))

    def all(self) -> list[Document]:
        """Every document: every chat's, then the characters' and the chats', by name."""
        return [document_of(d) for d in self._services.databank.list()]

    def text(self, document_id: int) -> str:
        """A document's whole text."""
        return self._services.databank.text(document_id)

    def enable(self, document_id: int, enabled: bool = True) -> Document:
        """Let the prompt use a document, or leave it out (``enabled=False``; it stays)."""
        return document_of(self._services.databank.enable(document_id, enabled))

    def remove(self, document_id: int) -> None:
        """Remove a document (``NotFoundError`` when there is none of that id)."""
        self._services.databank.remove(document_id)


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
        keys: tuple[str, ...] | list[str] = (),
        key_envs: tuple[str, ...] | list[str] = (),
        fallback: tuple[str, ...] | list[str] = (),
    ) -> ConnectionView:
        """Add a connection (or change the one of that name) and describe it.

        ``api`` is an API type (``openai``, ``anthropic``, ``koboldcpp``...). The ``key`` is
        stored apart and never shown again; ``key_env`` names an environment variable to
        read it from at each use instead. ``keys`` and ``key_envs`` add more, tried in order
        when one is refused or rate limited. ``fallback`` names connections that answer
        when this one fails before its first byte. ``default`` makes it the default
        connection.
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
            keys=tuple(keys),
            key_envs=tuple(key_envs),
            fallback=tuple(fallback),
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
        self._settings = settings_for(data_dir)
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

    @property
    def databank(self) -> AsyncDatabank:
        """The Data Bank's documents."""
        return AsyncDatabank(self.services)

    async def usage(self, *, since: str | None = None, by: str = "day") -> UsageReport:
        """The usage ledger: every request sent to a backend since ``since`` (``7d``,
        ``12h``, an ISO date; all when None), with totals per ``by`` (day, chat,
        connection or model)."""
        return self.services.usage.report(since=since, by=by)

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

    async def new_group(
        self,
        name: str,
        members: list[str | int],
        *,
        strategy: str = "natural",
        connection: str | None = None,
    ) -> AsyncGroupChat:
        """Make a group of characters (by name or id) with a new chat that opens with each
        member's greeting. ``strategy`` picks who answers a message, as in SillyTavern:
        ``natural`` (those named, then by talkativeness), ``list`` (everyone, in order),
        ``manual`` (only whom :meth:`AsyncGroupChat.trigger` names) or ``pooled``."""
        group = self.services.groups.create(name, members, strategy=strategy)
        return AsyncGroupChat(self.services, group.id, connection)

    async def group(self, group: int | str, *, connection: str | None = None) -> AsyncGroupChat:
        """Open an existing group by id or name."""
        return AsyncGroupChat(self.services, self.services.groups.get(group).id, connection)
