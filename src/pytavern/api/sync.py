"""The synchronous Python API: ``with pytavern.open() as tavern``, over the async one."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from pytavern.api.aio import AsyncChat, AsyncGroupChat, AsyncTavern, PathLike
from pytavern.api.portal import Portal
from pytavern.api.values import Character, DataDir, Document, MemberReply, Message, Reply
from pytavern.engine.services import (
    ConnectionCheck,
    ConnectionView,
    GenerationMode,
    UsageReport,
)
from pytavern.events import StreamEvent
from pytavern.types import ModelInfo

T = TypeVar("T")


class Chat:
    """One chat, driven synchronously. Get one from :meth:`Tavern.new_chat`."""

    def __init__(self, portal: Portal, chat: AsyncChat) -> None:
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

    def summarize(self) -> str:
        """Make and keep a new summary of the chat (see :meth:`AsyncChat.summarize`)."""
        return self._portal.call(self._chat.summarize())

    @property
    def summary(self) -> str:
        """The chat's summary ("" when it has none)."""
        return self._portal.call(_later(lambda: self._chat.summary))

    def set_summary(self, text: str) -> None:
        """Replace the chat's summary with ``text`` ("" removes it)."""
        self._portal.call(_later(lambda: self._chat.set_summary(text)))

    def attach(self, path: PathLike) -> Document:
        """Attach a text file to this chat's Data Bank (see :meth:`AsyncChat.attach`)."""
        return self._portal.call(_later(lambda: self._chat.attach(path)))

    def attach_text(self, name: str, text: str) -> Document:
        """Attach ``text`` to this chat's Data Bank as a document named ``name``."""
        return self._portal.call(_later(lambda: self._chat.attach_text(name, text)))

    @property
    def documents(self) -> list[Document]:
        """The documents the chat may use: every chat's, its character's and its own."""
        return self._portal.call(_later(lambda: self._chat.documents))


async def _later(function: Callable[[], T]) -> T:
    """Call ``function`` on the loop's thread (where the database is used)."""
    return function()


class GroupChat:
    """A group chat, driven synchronously (see :class:`AsyncGroupChat`). Get one from
    :meth:`Tavern.new_group`."""

    def __init__(self, portal: Portal, group: AsyncGroupChat) -> None:
        self._portal = portal
        self._group = group
        self.id = group.id
        """The group's id (``Tavern.group(id)`` opens it again)."""

    @property
    def connection(self) -> str | None:
        """The connection its turns use (None: the default connection)."""
        return self._group.connection

    @connection.setter
    def connection(self, name: str | None) -> None:
        self._group.connection = name

    @property
    def name(self) -> str:
        """The group's name."""
        return self._group.name

    @property
    def members(self) -> list[str]:
        """The members' names, in the group's order."""
        return self._group.members

    @property
    def chat_id(self) -> int | None:
        """The id of the group's current chat."""
        return self._group.chat_id

    def send(self, text: str | None) -> list[MemberReply]:
        """Say ``text`` (None: the group goes on by itself); the members' replies in order."""
        result: list[MemberReply] = self._portal.call(self._group.send(text))
        return result

    def events(self, text: str | None) -> Iterator[StreamEvent]:
        """Say ``text`` and yield the turn's typed events (see :meth:`AsyncGroupChat.events`)."""
        return self._portal.iterate(self._group.events(text))

    def trigger(self, member: str | int) -> MemberReply:
        """Have one member answer now."""
        result: MemberReply = self._portal.call(self._group.trigger(member))
        return result

    def regenerate(self) -> MemberReply:
        """A new reply in place of the last member's reply."""
        result: MemberReply = self._portal.call(self._group.regenerate())
        return result

    def swipe(self) -> MemberReply:
        """Another reply beside the last member's reply."""
        result: MemberReply = self._portal.call(self._group.swipe())
        return result

    def continue_(self) -> MemberReply:
        """Extend the last member's reply."""
        result: MemberReply = self._portal.call(self._group.continue_())
        return result

    @property
    def messages(self) -> list[Message]:
        """The group chat's messages, oldest first."""
        return self._group.messages


class _SyncNamespace:
    """Runs the methods of an async namespace (characters, connections) on the loop."""

    def __init__(self, portal: Portal, target: object) -> None:
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

    def import_file(self, path: PathLike) -> Character:
        """Import a SillyTavern character card: a PNG, CharX or JSON file."""
        result: Character = self._run("import_file", path)
        return result

    def create(self, card: dict[str, Any]) -> Character:
        """Create a character from a card dict (V1 flat, or V2/V3 with ``data``)."""
        result: Character = self._run("create", card)
        return result


class Databank(_SyncNamespace):
    """The Data Bank's documents (see :class:`AsyncDatabank`)."""

    def add(self, path: PathLike, *, character: str | int | None = None) -> Document:
        """Attach a text file to every chat, or to ``character``'s chats (name or id)."""
        result: Document = self._run("add", path, character=character)
        return result

    def add_text(self, name: str, text: str, *, character: str | int | None = None) -> Document:
        """Attach ``text`` as a document named ``name`` (to whom as :meth:`add`)."""
        result: Document = self._run("add_text", name, text, character=character)
        return result

    def all(self) -> list[Document]:
        """Every document: every chat's, then the characters' and the chats', by name."""
        result: list[Document] = self._run("all")
        return result

    def text(self, document_id: int) -> str:
        """A document's whole text."""
        result: str = self._run("text", document_id)
        return result

    def enable(self, document_id: int, enabled: bool = True) -> Document:
        """Let the prompt use a document, or leave it out (``enabled=False``; it stays)."""
        result: Document = self._run("enable", document_id, enabled)
        return result

    def remove(self, document_id: int) -> None:
        """Remove a document."""
        self._run("remove", document_id)


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
        keys: tuple[str, ...] | list[str] = (),
        key_envs: tuple[str, ...] | list[str] = (),
        fallback: tuple[str, ...] | list[str] = (),
    ) -> ConnectionView:
        """Add a connection (or change the one of that name) and describe it (see
        :meth:`AsyncConnections.add`)."""
        settings = {"url": url, "model": model, "key": key, "key_env": key_env}
        more = {"keys": keys, "key_envs": key_envs, "fallback": fallback}
        result: ConnectionView = self._run(
            "add", name, api, **settings, options=options, default=default, **more
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
        self._portal = Portal()
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
        self.databank = Databank(self._portal, self._tavern.databank)
        """The Data Bank's documents."""

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

    def new_group(
        self,
        name: str,
        members: list[str | int],
        *,
        strategy: str = "natural",
        connection: str | None = None,
    ) -> GroupChat:
        """Make a group of characters with a new chat (see :meth:`AsyncTavern.new_group`)."""
        group = self._portal.call(
            self._tavern.new_group(name, members, strategy=strategy, connection=connection)
        )
        return GroupChat(self._portal, group)

    def group(self, group: int | str, *, connection: str | None = None) -> GroupChat:
        """Open an existing group by id or name."""
        return GroupChat(
            self._portal, self._portal.call(self._tavern.group(group, connection=connection))
        )

    def usage(self, *, since: str | None = None, by: str = "day") -> UsageReport:
        """The usage ledger since ``since`` with totals per ``by`` (see
        :meth:`AsyncTavern.usage`)."""
        result: UsageReport = self._portal.call(self._tavern.usage(since=since, by=by))
        return result

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
