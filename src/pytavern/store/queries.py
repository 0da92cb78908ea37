"""The store's fast path: SQL Core statements on one connection, compiled once.

A chat turn reads its chat, character, settings, persona, connection, lorebooks and newest
messages and appends the user's message. Through ORM sessions each of those cost about
0.3 ms here, most of pytavern's time to first token; as cached Core statements sharing one
connection and one transaction they cost tens of microseconds. The Store's single-record
getters (``get_chat``, ``history``, ``append_message``...) use these same queries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    and_,
    bindparam,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from pytavern.bulk import collection_paused
from pytavern.errors import NotFoundError, StoreError
from pytavern.store._base import StoreBase, dumps, loads
from pytavern.store.avatars import has_avatar
from pytavern.store.lean import LeanStatement
from pytavern.store.records import (
    AddedMessage,
    ChatRecord,
    ConnectionRecord,
    MessageRecord,
    PersonaRecord,
    SwipeRecord,
    SwipeStatus,
)
from pytavern.store.revision import REVISION_KEY
from pytavern.store.schema import (
    CharacterAvatarRow,
    CharacterRow,
    ChatPromptRow,
    ChatRow,
    ConnectionRow,
    LorebookRow,
    MessageRow,
    MetaRow,
    PersonaAvatarRow,
    PersonaRow,
    PresetRow,
    SettingRow,
    SwipeRow,
    utcnow,
)
from pytavern.store.usage import UsageRow, insert_usage

_OWNER: BindParameter[int] = bindparam("owner")

_CHAT_QUERY = select(
    ChatRow.id,
    ChatRow.character_id,
    ChatRow.title,
    ChatRow.metadata_json.label("metadata_json"),
    ChatRow.created_at,
    ChatRow.updated_at,
    ChatRow.message_count,
).where(ChatRow.id == bindparam("id"), ChatRow.owner_id == _OWNER)
_CHAT = LeanStatement(_CHAT_QUERY)

_CHAT_FOR_TURN = LeanStatement(
    _CHAT_QUERY.add_columns(
        ChatRow.next_position,
        ChatRow.revision.label("chat_revision"),
        select(MetaRow.value)
        .where(MetaRow.key == REVISION_KEY)
        .scalar_subquery()
        .label("revision"),
    )
)

CHARACTER_HAS_AVATAR = has_avatar(CharacterAvatarRow.character_id, CharacterRow.id)
CHARACTER_COLUMNS = (
    CharacterRow.id,
    CharacterRow.name,
    CharacterRow.card,
    CHARACTER_HAS_AVATAR,
    CharacterRow.created_at,
    CharacterRow.updated_at,
)
"""A character as records carry it: the card, not the avatar's bytes."""
_CHARACTER = LeanStatement(
    select(*CHARACTER_COLUMNS).where(
        CharacterRow.id == bindparam("id"), CharacterRow.owner_id == _OWNER
    )
)

_SETTING = LeanStatement(
    select(SettingRow.value).where(
        SettingRow.owner_id == _OWNER, SettingRow.key == bindparam("key")
    )
)

PERSONA_COLUMNS = (  # a persona as records carry it (no image bytes)
    PersonaRow.id,
    PersonaRow.name,
    PersonaRow.description,
    PersonaRow.position,
    PersonaRow.depth,
    PersonaRow.role,
    PersonaRow.lorebook,
    has_avatar(PersonaAvatarRow.persona_id, PersonaRow.id),
    PersonaRow.is_default,
)
_PERSONA = LeanStatement(
    select(*PERSONA_COLUMNS).where(PersonaRow.id == bindparam("id"), PersonaRow.owner_id == _OWNER)
)
_DEFAULT_PERSONA = LeanStatement(
    select(*PERSONA_COLUMNS).where(PersonaRow.owner_id == _OWNER, PersonaRow.is_default)
)

_CONNECTION_COLUMNS = (
    ConnectionRow.id,
    ConnectionRow.name,
    ConnectionRow.api,
    ConnectionRow.url,
    ConnectionRow.model,
    ConnectionRow.options,
    ConnectionRow.is_default,
)
_CONNECTION = LeanStatement(
    select(*_CONNECTION_COLUMNS).where(
        ConnectionRow.owner_id == _OWNER, ConnectionRow.name == bindparam("name")
    )
)
_DEFAULT_CONNECTION = LeanStatement(
    select(*_CONNECTION_COLUMNS).where(ConnectionRow.owner_id == _OWNER, ConnectionRow.is_default)
)
_CONNECTION_NAMES = LeanStatement(
    select(ConnectionRow.name).where(ConnectionRow.owner_id == _OWNER)
)

_LOREBOOK = LeanStatement(
    select(LorebookRow.data).where(
        LorebookRow.owner_id == _OWNER, LorebookRow.name == bindparam("name")
    )
)
_PRESET = LeanStatement(
    select(PresetRow.data).where(
        PresetRow.owner_id == _OWNER,
        PresetRow.kind == bindparam("kind"),
        PresetRow.name == bindparam("name"),
    )
)

_HISTORY_COLUMNS = (
    MessageRow.id,
    MessageRow.chat_id,
    MessageRow.position,
    MessageRow.role,
    MessageRow.name,
    MessageRow.active_swipe,
    MessageRow.swipe_count,
    MessageRow.extra,
    MessageRow.created_at,
    SwipeRow.swipe_index,
    SwipeRow.text,
    SwipeRow.status,
    SwipeRow.reasoning,
    SwipeRow.finish_reason,
    SwipeRow.error,
    SwipeRow.model,
    SwipeRow.connection,
    SwipeRow.usage,
    SwipeRow.created_at.label("swipe_created_at"),
)
_HISTORY = (
    select(*_HISTORY_COLUMNS)
    .join(
        SwipeRow,
        and_(SwipeRow.message_id == MessageRow.id, SwipeRow.swipe_index == MessageRow.active_swipe),
    )
    .join(ChatRow, ChatRow.id == MessageRow.chat_id)
    .where(MessageRow.chat_id == bindparam("chat"), ChatRow.owner_id == _OWNER)
    .order_by(MessageRow.position.desc())
)
_HISTORY_PAGE = LeanStatement(_HISTORY.limit(bindparam("limit")))
_HISTORY_PAGE_BEFORE = LeanStatement(
    _HISTORY.where(MessageRow.position < bindparam("before")).limit(bindparam("limit"))
)
_MESSAGE_WITH_SWIPE = LeanStatement(
    select(*_HISTORY_COLUMNS)
    .join(SwipeRow, SwipeRow.message_id == MessageRow.id)
    .join(ChatRow, ChatRow.id == MessageRow.chat_id)
    .where(
        MessageRow.id == bindparam("message"),
        SwipeRow.swipe_index == bindparam("swipe"),
        ChatRow.owner_id == _OWNER,
    )
)
_EVERY_MESSAGE = 2**62
"""The ``limit`` that reads a whole chat."""

_NEXT_POSITION = LeanStatement(
    update(ChatRow)
    .where(ChatRow.id == bindparam("chat"), ChatRow.owner_id == _OWNER)
    .values(
        next_position=ChatRow.next_position + bindparam("count"),
        message_count=ChatRow.message_count + bindparam("count"),
        revision=ChatRow.revision + bindparam("count"),
        updated_at=bindparam("now"),
    )
    .returning(ChatRow.next_position, ChatRow.revision)
)
"""Claims ``count`` positions at the end of a chat: one revision per message added."""
_BUMP_REVISION = LeanStatement(
    update(ChatRow)
    .where(ChatRow.id == bindparam("chat"))
    .values(revision=ChatRow.revision + 1)
    .returning(ChatRow.revision)
)
_CHAT_METADATA = LeanStatement(
    select(ChatRow.metadata_json.label("metadata_json")).where(
        ChatRow.id == bindparam("chat"), ChatRow.owner_id == _OWNER
    )
)
_SET_CHAT_METADATA = LeanStatement(
    update(ChatRow)
    .where(ChatRow.id == bindparam("chat"), ChatRow.owner_id == _OWNER)
    .values(metadata_json=bindparam("metadata"), updated_at=bindparam("now"))
)
_OWNED_CHAT = select(ChatRow.id).where(ChatRow.id == bindparam("chat"), ChatRow.owner_id == _OWNER)
_LAST_PROMPT = LeanStatement(
    select(ChatPromptRow.breakdown.label("breakdown")).where(
        ChatPromptRow.chat_id.in_(_OWNED_CHAT.scalar_subquery())
    )
)
_UPDATE_LAST_PROMPT = LeanStatement(
    update(ChatPromptRow)
    .where(ChatPromptRow.chat_id == bindparam("chat"))
    .values(breakdown=bindparam("text"), updated_at=bindparam("at"))
)
_INSERT_LAST_PROMPT = LeanStatement(
    insert(ChatPromptRow).from_select(
        ["chat_id", "breakdown", "updated_at"],
        select(
            bindparam("chat", type_=ChatPromptRow.chat_id.type),
            bindparam("text", type_=ChatPromptRow.breakdown.type),
            bindparam("at", type_=ChatPromptRow.updated_at.type),
        ).where(exists().where(ChatRow.id == bindparam("chat"))),
    )
)
"""The chat's first breakdown, if the chat is still there (breakdowns are written behind
their turns: ``pytavern.store.prompt_records``)."""
_MESSAGE_AT = LeanStatement(
    select(MessageRow.id)
    .where(MessageRow.chat_id == bindparam("chat"), MessageRow.created_at == bindparam("at"))
    .limit(1)
)
_INSERT_MESSAGE = LeanStatement(insert(MessageRow).returning(MessageRow.id))
_INSERT_SWIPE = LeanStatement(insert(SwipeRow))
SWIPE_FIELDS = frozenset({"reasoning", "finish_reason", "error", "model", "connection", "usage"})
_SWIPE_UPDATES: dict[frozenset[str], LeanStatement] = {}


def _swipe_update(columns: frozenset[str]) -> LeanStatement:
    """The statement that sets ``columns`` of one swipe (``new_<column>`` parameters)."""
    statement = _SWIPE_UPDATES.get(columns)
    if statement is None:
        statement = _SWIPE_UPDATES[columns] = LeanStatement(
            update(SwipeRow)
            .where(
                SwipeRow.message_id == bindparam("message"),
                SwipeRow.swipe_index == bindparam("swipe"),
            )
            .values({column: bindparam(f"new_{column}") for column in sorted(columns)})
        )
    return statement


@dataclass(frozen=True, slots=True)
class StoredCard:
    """A character as stored: the card's JSON text unparsed, so callers can cache the parse."""

    id: int
    name: str
    card_json: str
    has_avatar: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TurnChat:
    """A chat as a turn reads it."""

    chat: ChatRecord
    next_position: int
    revision: str | None
    """The library revision when it was read (``None`` on a database that has none)."""
    chat_revision: int
    """The chat's own revision (``ChatRow.revision``), read before anything else of it."""


class Queries:
    """Fast reads and appends for one owner, on one connection inside one transaction."""

    def __init__(self, connection: Connection, owner_id: int) -> None:
        self._connection = connection
        self._owner = owner_id

    @property
    def database(self) -> Connection:
        """The transaction's database connection (for another module's lean statements)."""
        return self._connection

    def _first(self, statement: LeanStatement, **params: Any) -> Any | None:
        return statement.first(self._connection, {"owner": self._owner, **params})

    def chat(self, chat_id: int) -> ChatRecord:
        """The chat with this id (``NotFoundError`` if it is not this owner's)."""
        return chat_record(self._chat_row(_CHAT, chat_id))

    def chat_for_turn(self, chat_id: int) -> TurnChat:
        """The chat, where its next message goes, and the library revision (see
        ``store.revision``), in one read."""
        row = self._chat_row(_CHAT_FOR_TURN, chat_id)
        return TurnChat(
            chat_record(row), int(row.next_position), row.revision, int(row.chat_revision)
        )

    def _chat_row(self, statement: LeanStatement, chat_id: int) -> Any:
        row = self._first(statement, id=chat_id)
        if row is None:
            raise NotFoundError(
                f"no chat with id {chat_id}", hint="List chats with `pytavern chats list`"
            )
        return row

    def character(self, character_id: int) -> StoredCard:
        """The character with this id, its card as JSON text."""
        row = self._first(_CHARACTER, id=character_id)
        if row is None:
            raise NotFoundError(f"no character with id {character_id}")
        return StoredCard(
            row.id, row.name, row.card, bool(row.has_avatar), row.created_at, row.updated_at
        )

    def setting_json(self, key: str) -> str | None:
        """A user setting's JSON text, if it is set."""
        row = self._first(_SETTING, key=key)
        return None if row is None else str(row.value)

    def persona(self, persona_id: int) -> PersonaRecord | None:
        """The persona with this id, if it exists."""
        row = self._first(_PERSONA, id=persona_id)
        return None if row is None else persona_record(row)

    def default_persona(self) -> PersonaRecord | None:
        """The default persona, if one is chosen."""
        row = self._first(_DEFAULT_PERSONA)
        return None if row is None else persona_record(row)

    def connection(self, name: str | None) -> ConnectionRecord:
        """The connection ``name``, or the default one when ``name`` is ``None``."""
        if name is None:
            row = self._first(_DEFAULT_CONNECTION)
            if row is None:
                raise NotFoundError(
                    "no default connection is set",
                    hint="Choose one with `pytavern connections default NAME`",
                )
            return connection_record(row)
        row = self._first(_CONNECTION, name=name)
        if row is not None:
            return connection_record(row)
        rows = _CONNECTION_NAMES.all(self._connection, {"owner": self._owner})
        names = [row.name for row in rows]
        raise NotFoundError(
            f"no connection named {name!r}",
            hint=f"Known connections: {', '.join(names) or 'none'}; "
            "add one with `pytavern connections add NAME --api TYPE`",
        )

    def lorebook_json(self, name: str) -> str | None:
        """The World Info JSON text of the lorebook ``name``, if there is one."""
        row = self._first(_LOREBOOK, name=name)
        return None if row is None else str(row.data)

    def preset_json(self, kind: str, name: str) -> str | None:
        """The JSON text of a stored preset, if there is one."""
        row = self._first(_PRESET, kind=kind, name=name)
        return None if row is None else str(row.data)

    def history(
        self, chat_id: int, *, limit: int | None = None, before_position: int | None = None
    ) -> list[MessageRecord]:
        """Messages of a chat in order; with ``limit``, only the newest ``limit`` of them."""
        params = {"owner": self._owner, "chat": chat_id, "limit": limit or _EVERY_MESSAGE}
        page = _HISTORY_PAGE
        if before_position is not None:
            params["before"] = before_position
            page = _HISTORY_PAGE_BEFORE
        with collection_paused():
            rows = page.all(self._connection, params)
            messages = [_message_from_row(row) for row in reversed(rows)]
        if not rows and before_position is None:
            self.chat(chat_id)  # an empty chat, or one that is not ours: NotFoundError
        return messages

    def merge_chat_metadata(self, chat_id: int, changes: dict[str, Any]) -> None:
        """Set some keys of a chat's metadata, keeping the others."""
        row = self._first(_CHAT_METADATA, chat=chat_id)
        if row is None:
            self.chat(chat_id)  # raises NotFoundError
            return
        metadata = loads(row.metadata_json) | changes
        _SET_CHAT_METADATA.execute(
            self._connection,
            {"owner": self._owner, "chat": chat_id, "metadata": dumps(metadata), "now": utcnow()},
        )

    def last_prompt(self, chat_id: int) -> dict[str, Any] | None:
        """The breakdown of the chat's last prompt, if a reply has written one."""
        row = self._first(_LAST_PROMPT, chat=chat_id)
        breakdown = loads(row.breakdown) if row is not None else None
        return breakdown if isinstance(breakdown, dict) else None

    def set_last_prompt(self, chat_id: int, breakdown: dict[str, Any]) -> None:
        """Keep ``breakdown`` as the chat's last prompt (the chat is the caller's: the
        turn that built it has loaded it for this owner); nothing when the chat is gone."""
        params = {"chat": chat_id, "text": dumps(breakdown), "at": utcnow()}
        if not _UPDATE_LAST_PROMPT.count(self._connection, params):  # its first prompt
            _INSERT_LAST_PROMPT.execute(self._connection, params)

    def update_swipe(
        self, message_id: int, swipe_index: int, *, text: str, status: SwipeStatus, **fields: Any
    ) -> MessageRecord:
        """Replace the text and outcome of one swipe."""
        check_swipe_fields(fields)
        row = self._first(_MESSAGE_WITH_SWIPE, message=message_id, swipe=swipe_index)
        if row is None:
            raise NotFoundError(f"message {message_id} has no swipe {swipe_index}")
        values = self._set_swipe(message_id, swipe_index, text, status, fields)
        bumped = _BUMP_REVISION.first(self._connection, {"chat": row.chat_id})
        assert bumped is not None  # the message's chat exists: the row was just read
        updated = SimpleNamespace(**{**row._asdict(), **values})
        return _message_from_row(updated, int(bumped.revision))

    def update_written_swipe(
        self, written: MessageRecord, *, text: str, status: SwipeStatus, **fields: Any
    ) -> MessageRecord:
        """``update_swipe`` of the swipe shown in ``written``, a record an earlier write of
        this owner returned (so nothing is read back: a streaming reply's final write)."""
        check_swipe_fields(fields)
        self._set_swipe(written.id, written.active_swipe, text, status, fields)
        bumped = _BUMP_REVISION.first(self._connection, {"chat": written.chat_id})
        assert bumped is not None  # the message's chat exists: its swipe was just updated
        swipe = replace(written.swipe, text=text, status=status, **fields)
        return replace(written, swipe=swipe, chat_revision=int(bumped.revision))

    def _set_swipe(
        self,
        message_id: int,
        swipe_index: int,
        text: str,
        status: SwipeStatus,
        fields: dict[str, Any],
    ) -> dict[str, Any]:
        """Write one swipe's text, status and ``fields``; the column values written."""
        values = {"text": text, "status": status}
        values |= {k: dumps(v) if k == "usage" else v for k, v in fields.items()}
        params: dict[str, Any] = {f"new_{key}": value for key, value in values.items()}
        params |= {"message": message_id, "swipe": swipe_index}
        if _swipe_update(frozenset(values)).count(self._connection, params) != 1:
            raise NotFoundError(f"message {message_id} has no swipe {swipe_index}")
        return values

    def append_message(
        self,
        chat_id: int,
        *,
        role: str,
        name: str,
        text: str,
        status: SwipeStatus = "complete",
        extra: dict[str, Any] | None = None,
        **swipe_fields: Any,
    ) -> MessageRecord:
        """Add a message (and its first swipe) at the end of a chat."""
        added = AddedMessage(role, name, text, status, extra, swipe_fields)
        return self.append_messages(chat_id, [added])[0]

    def append_messages(
        self, chat_id: int, added: Sequence[AddedMessage], *, at: datetime | None = None
    ) -> list[MessageRecord]:
        """Add messages (each with its first swipe) at the end of a chat, in this order,
        created ``at`` (now by default); each record carries the chat revision its message
        made (one per message, as if each were appended on its own)."""
        for message in added:
            check_swipe_fields(message.swipe_fields)
        now = at or utcnow()
        claimed = self._first(_NEXT_POSITION, chat=chat_id, now=now, count=len(added))
        if claimed is None:
            self.chat(chat_id)  # raises NotFoundError
            raise NotFoundError(f"no chat with id {chat_id}")
        first = int(claimed.next_position) - len(added)
        first_revision = int(claimed.revision) - len(added) + 1
        return [
            self._insert_message(chat_id, first + i, message, now, first_revision + i)
            for i, message in enumerate(added)
        ]

    def has_message_at(self, chat_id: int, at: datetime) -> bool:
        """Whether the chat has a message created ``at`` (a noted write is committed:
        ``pytavern.store.turn_journal``)."""
        return _MESSAGE_AT.first(self._connection, {"chat": chat_id, "at": at}) is not None

    def _insert_message(
        self, chat_id: int, position: int, added: AddedMessage, now: datetime, revision: int
    ) -> MessageRecord:
        message = {
            "chat_id": chat_id,
            "position": position,
            "role": added.role,
            "name": added.name,
            "active_swipe": 0,
            "swipe_count": 1,
            "extra": dumps(added.extra or {}),
            "created_at": now,
        }
        inserted = _INSERT_MESSAGE.first(self._connection, message)
        assert inserted is not None  # RETURNING gives the new row's id
        message_id = int(inserted.id)
        swipe = swipe_values(message_id, 0, added.text, added.status, added.swipe_fields, now)
        _INSERT_SWIPE.execute(self._connection, swipe)
        swipe_columns = {k: v for k, v in swipe.items() if k not in ("message_id", "created_at")}
        row = {**message, **swipe_columns, "id": message_id, "swipe_created_at": now}
        return _message_from_row(SimpleNamespace(**row), revision)


def check_swipe_fields(fields: dict[str, Any]) -> None:
    """Refuse fields a swipe does not have."""
    unknown = set(fields) - SWIPE_FIELDS
    if unknown:
        raise TypeError(f"unknown swipe fields: {sorted(unknown)}")


def swipe_values(
    message_id: int,
    index: int,
    text: str,
    status: SwipeStatus,
    fields: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The column values of a new swipe."""
    values: dict[str, Any] = {
        "message_id": message_id,
        "swipe_index": index,
        "text": text,
        "status": status,
        "reasoning": "",
        "finish_reason": None,
        "error": None,
        "model": None,
        "connection": None,
        "usage": "{}",
        "created_at": now,
    }
    for key, value in fields.items():
        values[key] = dumps(value) if key == "usage" else value
    return values


def chat_record(row: Any) -> ChatRecord:
    """A chat row (ORM or plain columns) as a record."""
    return ChatRecord(
        id=row.id,
        character_id=row.character_id,
        title=row.title,
        metadata=loads(row.metadata_json),
        message_count=int(row.message_count),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _message_from_row(row: Any, chat_revision: int | None = None) -> MessageRecord:
    swipe = SwipeRecord(
        index=row.swipe_index,
        text=row.text,
        status=row.status,
        reasoning=row.reasoning,
        finish_reason=row.finish_reason,
        error=row.error,
        model=row.model,
        connection=row.connection,
        usage=loads(row.usage),
        created_at=row.swipe_created_at,
    )
    return MessageRecord(
        id=row.id,
        chat_id=row.chat_id,
        position=row.position,
        role=row.role,
        name=row.name,
        active_swipe=row.active_swipe,
        swipe_count=row.swipe_count,
        swipe=swipe,
        extra=loads(row.extra),
        created_at=row.created_at,
        chat_revision=chat_revision,
    )


def persona_record(row: Any) -> PersonaRecord:
    """A persona from the columns of ``PERSONA_COLUMNS``."""
    return PersonaRecord(
        id=row.id,
        name=row.name,
        description=row.description,
        position=row.position,
        depth=row.depth,
        role=row.role,
        lorebook=row.lorebook,
        has_avatar=bool(row.has_avatar),
        is_default=bool(row.is_default),
    )


def connection_record(row: Any) -> ConnectionRecord:
    """A connection row (ORM or plain columns) as a record."""
    return ConnectionRecord(
        id=row.id,
        name=row.name,
        api=row.api,
        url=row.url,
        model=row.model,
        options=loads(row.options),
        is_default=bool(row.is_default),
    )


class QueriesMixin(StoreBase):
    """Hands out ``Queries`` bound to one transaction."""

    @contextmanager
    def queries(self) -> Iterator[Queries]:
        """Fast queries in one transaction, committed when the block ends (with the
        ledger rows queued in ``pending_usage``, put back if it fails)."""
        taken: list[UsageRow] = []
        try:
            with self.held.begin() as connection:
                yield Queries(connection, self.owner_id)
                if self.pending_usage:
                    taken = self.pending_usage.take()
                    insert_usage(connection, taken)
        except BaseException as exc:
            self.pending_usage.put_back(taken)
            if not isinstance(exc, SQLAlchemyError):
                raise
            raise StoreError(
                f"the database could not be read or written ({type(exc).__name__})",
                hint="Check free disk space and that no other program locks the database",
            ) from exc

    def flush_usage(self) -> None:
        """Commit the queued ledger rows now, if no write has taken them."""
        if self.pending_usage:
            with self.queries():
                pass
