"""Stored chats and their messages and swipes.

Appending a message is one insert (plus a counter update), never a rewrite of the chat;
reading history reads only the window asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from pytavern.bulk import collection_paused
from pytavern.errors import NotFoundError
from pytavern.store._base import dumps, loads
from pytavern.store.groups import group_chat_ids
from pytavern.store.lean import LeanStatement
from pytavern.store.prompt_records import MakeBreakdown
from pytavern.store.queries import QueriesMixin, chat_record, check_swipe_fields
from pytavern.store.records import (
    ChatRecord,
    MessageRecord,
    NewMessage,
    SwipeRecord,
    SwipeStatus,
)
from pytavern.store.schema import (
    CharacterRow,
    ChatRow,
    MessageRow,
    SwipeRow,
    first_chat_revision,
    utcnow,
)


def _swipe_record(row: SwipeRow) -> SwipeRecord:
    status: SwipeStatus = row.status  # type: ignore[assignment]
    return SwipeRecord(
        index=row.swipe_index,
        text=row.text,
        status=status,
        reasoning=row.reasoning,
        finish_reason=row.finish_reason,
        error=row.error,
        model=row.model,
        connection=row.connection,
        usage=loads(row.usage),
        created_at=row.created_at,
    )


def _message_record(
    message: MessageRow, swipe: SwipeRow, chat_revision: int | None = None
) -> MessageRecord:
    return MessageRecord(
        id=message.id,
        chat_id=message.chat_id,
        position=message.position,
        role=message.role,
        name=message.name,
        active_swipe=message.active_swipe,
        swipe_count=message.swipe_count,
        swipe=_swipe_record(swipe),
        extra=loads(message.extra),
        created_at=message.created_at,
        chat_revision=chat_revision,
    )


def _bump_revision(session: Session, chat_id: int) -> int:
    """Move the chat's revision on (every write to its messages or swipes does)."""
    revision = session.scalar(
        update(ChatRow)
        .where(ChatRow.id == chat_id)
        .values(revision=ChatRow.revision + 1)
        .returning(ChatRow.revision)
    )
    assert revision is not None  # the chat exists: its message was just read
    return int(revision)


class ChatsMixin(QueriesMixin):
    """Chat, message and swipe storage."""

    def create_chat(
        self, character_id: int, *, title: str = "", metadata: dict[str, Any] | None = None
    ) -> ChatRecord:
        """Start an empty chat with a character."""
        with self.transaction() as session:
            self._owned_character(session, character_id)
            row = ChatRow(
                owner_id=self.owner_id,
                character_id=character_id,
                title=title,
                metadata_json=dumps(metadata or {}),
            )
            session.add(row)
            session.flush()
            return chat_record(row)

    def import_chat(
        self,
        character_id: int,
        *,
        title: str,
        metadata: dict[str, Any],
        messages: Sequence[NewMessage],
    ) -> ChatRecord:
        """Create a chat with all its messages in one transaction (all or nothing): the
        chat, its messages and their swipes, one statement each (a row at a time through the
        ORM, a 50,000-message chat took half a minute), and a SillyTavern folder's thousands
        of small chats without the ORM's per-chat session (2.8 ms a chat)."""
        with collection_paused(), self.queries() as queries:
            connection = queries.database
            owned = {"id": character_id, "owner": self.owner_id}
            if _OWNED_CHARACTER.first(connection, owned) is None:
                raise NotFoundError(f"no character with id {character_id}")
            now = utcnow()
            row = {
                "owner_id": self.owner_id,
                "character_id": character_id,
                "title": title,
                "metadata": dumps(metadata),
                "next_position": len(messages),
                "message_count": len(messages),
                "created_at": now,
                "updated_at": now,
                "revision": first_chat_revision(),
            }
            inserted = _INSERT_CHAT.first(connection, row)
            assert inserted is not None  # RETURNING gives the new row's id
            chat_id = int(inserted.id)
            _insert_messages(connection, chat_id, messages, now)
            return queries.chat(chat_id)

    def get_chat(self, chat_id: int) -> ChatRecord:
        """The chat with this id."""
        with self.queries() as queries:
            return queries.chat(chat_id)

    def last_prompt(self, chat_id: int) -> dict[str, Any] | None:
        """The breakdown of the chat's last prompt (``None`` before its first reply, or for
        a chat that is not this owner's): the one waiting to be written, else the stored."""
        waiting = self.pending_prompts.get(self.owner_id, chat_id)
        if waiting is not None:
            return waiting
        with self.queries() as queries:
            return queries.last_prompt(chat_id)

    def keep_last_prompt(self, chat_id: int, make: MakeBreakdown) -> None:
        """Keep the breakdown ``make`` makes as the chat's last prompt, written later by
        ``write_prompts`` (see ``pytavern.store.prompt_records``)."""
        self.pending_prompts.keep(self.owner_id, chat_id, make)

    def write_prompts(self) -> None:
        """Write the breakdowns that wait, in one transaction (a chat deleted meanwhile is
        skipped); put back if the write fails."""
        waiting = self.pending_prompts.take()
        if not waiting:
            return
        try:
            with self.queries() as queries:
                for item in waiting:
                    queries.set_last_prompt(item.chat_id, item.breakdown())
        except BaseException:
            self.pending_prompts.put_back(waiting)
            raise

    def list_chats(self, character_id: int | None = None) -> list[ChatRecord]:
        """Chats, newest activity first; only ``character_id``'s own when given (not the
        chat of a group it is in: that chat is the group's)."""
        query = (
            select(ChatRow)
            .where(ChatRow.owner_id == self.owner_id)
            .order_by(ChatRow.updated_at.desc(), ChatRow.id.desc())
        )
        if character_id is not None:
            query = query.where(
                ChatRow.character_id == character_id, ChatRow.id.not_in(group_chat_ids())
            )
        with self.transaction() as session:
            return [chat_record(row) for row in session.scalars(query)]

    def latest_chat(self, character_id: int) -> ChatRecord | None:
        """The character's most recently active chat, if any."""
        chats = self.list_chats(character_id)
        return chats[0] if chats else None

    def update_chat(
        self, chat_id: int, *, title: str | None = None, metadata: dict[str, Any] | None = None
    ) -> ChatRecord:
        """Change a chat's title or metadata."""
        with self.transaction() as session:
            row = self._chat_row(session, chat_id)
            if title is not None:
                row.title = title
            if metadata is not None:
                row.metadata_json = dumps(metadata)
            row.updated_at = utcnow()
            return chat_record(row)

    def merge_chat_metadata(self, chat_id: int, changes: dict[str, Any]) -> None:
        """Set some keys of a chat's metadata, keeping the others (one transaction)."""
        with self.queries() as queries:
            queries.merge_chat_metadata(chat_id, changes)

    def delete_chat(self, chat_id: int) -> None:
        """Delete a chat and its messages."""
        with self.transaction() as session:
            session.delete(self._chat_row(session, chat_id))

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
        """Add a message at the end of a chat, committed when this returns."""
        with self.queries() as queries:
            return queries.append_message(
                chat_id, role=role, name=name, text=text, status=status, extra=extra, **swipe_fields
            )

    def add_swipe(
        self, message_id: int, *, text: str, status: SwipeStatus = "complete", **fields: Any
    ) -> MessageRecord:
        """Add an alternative text to a message and show it."""
        with self.transaction() as session:
            message = self._message_row(session, message_id)
            swipe = _new_swipe(message_id, message.swipe_count, text, status, fields)
            message.active_swipe = message.swipe_count
            message.swipe_count += 1
            session.add(swipe)
            session.flush()
            return _message_record(message, swipe, _bump_revision(session, message.chat_id))

    def update_swipe(
        self, message_id: int, swipe_index: int, *, text: str, status: SwipeStatus, **fields: Any
    ) -> MessageRecord:
        """Replace the text and outcome of one swipe (used by continue and edit)."""
        with self.queries() as queries:
            return queries.update_swipe(message_id, swipe_index, text=text, status=status, **fields)

    def set_active_swipe(self, message_id: int, swipe_index: int) -> MessageRecord:
        """Show another swipe of a message."""
        with self.transaction() as session:
            message = self._message_row(session, message_id)
            swipe = self._swipe_row(session, message_id, swipe_index)
            message.active_swipe = swipe_index
            session.flush()
            return _message_record(message, swipe, _bump_revision(session, message.chat_id))

    def get_message(self, message_id: int) -> MessageRecord:
        """One message with its shown swipe."""
        with self.transaction() as session:
            message = self._message_row(session, message_id)
            swipe = self._swipe_row(session, message_id, message.active_swipe)
            return _message_record(message, swipe)

    def list_swipes(self, message_id: int) -> list[SwipeRecord]:
        """Every swipe of a message, in order."""
        with self.transaction() as session:
            self._message_row(session, message_id)
            rows = session.scalars(
                select(SwipeRow)
                .where(SwipeRow.message_id == message_id)
                .order_by(SwipeRow.swipe_index)
            )
            return [_swipe_record(row) for row in rows]

    def swipe_texts(self, chat_id: int) -> dict[int, list[str]]:
        """The texts of every swipe, in order, of the chat's messages that have more than
        one, by message id: one read for a whole chat (an export), not one per message."""
        with self.transaction() as session:
            self._chat_row(session, chat_id)
            rows = session.execute(
                select(SwipeRow.message_id, SwipeRow.text)
                .join(MessageRow, MessageRow.id == SwipeRow.message_id)
                .where(MessageRow.chat_id == chat_id, MessageRow.swipe_count > 1)
                .order_by(SwipeRow.message_id, SwipeRow.swipe_index)
            )
            texts: dict[int, list[str]] = {}
            for message_id, text in rows:
                texts.setdefault(message_id, []).append(text)
            return texts

    def delete_message(self, message_id: int) -> None:
        """Delete one message and its swipes."""
        with self.transaction() as session:
            message = self._message_row(session, message_id)
            session.execute(delete(SwipeRow).where(SwipeRow.message_id == message_id))
            session.delete(message)
            self._chat_row(session, message.chat_id).message_count -= 1
            _bump_revision(session, message.chat_id)

    def history(
        self, chat_id: int, *, limit: int | None = None, before_position: int | None = None
    ) -> list[MessageRecord]:
        """Messages of a chat in order; with ``limit``, only the newest ``limit`` of them."""
        with self.queries() as queries:
            return queries.history(chat_id, limit=limit, before_position=before_position)

    def last_message(self, chat_id: int) -> MessageRecord | None:
        """The newest message of a chat, if any."""
        newest = self.history(chat_id, limit=1)
        return newest[0] if newest else None

    def _owned_character(self, session: Session, character_id: int) -> None:
        if self.owned(session, CharacterRow, character_id) is None:
            raise NotFoundError(f"no character with id {character_id}")

    def _chat_row(self, session: Session, chat_id: int) -> ChatRow:
        row = self.owned(session, ChatRow, chat_id)
        if row is None:
            raise NotFoundError(
                f"no chat with id {chat_id}", hint="List chats with `pytavern chats list`"
            )
        return row

    def _message_row(self, session: Session, message_id: int) -> MessageRow:
        row = session.get(MessageRow, message_id)
        if row is None or self.owned(session, ChatRow, row.chat_id) is None:
            raise NotFoundError(f"no message with id {message_id}")
        return row

    @staticmethod
    def _swipe_row(session: Session, message_id: int, swipe_index: int) -> SwipeRow:
        row = session.scalar(
            select(SwipeRow).where(
                SwipeRow.message_id == message_id, SwipeRow.swipe_index == swipe_index
            )
        )
        if row is None:
            raise NotFoundError(f"message {message_id} has no swipe {swipe_index}")
        return row


_OWNED_CHARACTER = LeanStatement(
    select(CharacterRow.id).where(
        CharacterRow.id == bindparam("id"), CharacterRow.owner_id == bindparam("owner")
    )
)
_INSERT_CHAT = LeanStatement(insert(ChatRow).returning(ChatRow.id))
_INSERT_MESSAGES = LeanStatement(insert(MessageRow))
_INSERT_SWIPES = LeanStatement(insert(SwipeRow))
_MESSAGE_IDS = LeanStatement(
    select(MessageRow.id)
    .where(MessageRow.chat_id == bindparam("chat"))
    .order_by(MessageRow.position)
)


def _insert_messages(
    connection: Connection, chat_id: int, messages: Sequence[NewMessage], now: datetime
) -> None:
    """Insert ``messages`` at positions 0.. of a new chat, each with its swipes (every
    one ``complete``): the messages, their ids read back in order, the swipes."""
    if not messages:
        return
    rows = [_message_row(chat_id, position, m, now) for position, m in enumerate(messages)]
    _INSERT_MESSAGES.execute_many(connection, rows)  # RETURNING would go row by row
    ids = [row.id for row in _MESSAGE_IDS.all(connection, {"chat": chat_id})]
    swipes = [
        {
            "message_id": message_id,
            "swipe_index": index,
            "text": text,
            "status": "complete",
            "reasoning": "",
            "usage": "{}",
            "created_at": now,
        }
        for message_id, message in zip(ids, messages, strict=True)
        for index, text in enumerate(message.swipes or [""])
    ]
    _INSERT_SWIPES.execute_many(connection, swipes)


def _message_row(chat_id: int, position: int, message: NewMessage, now: datetime) -> dict[str, Any]:
    count = max(len(message.swipes), 1)
    return {
        "chat_id": chat_id,
        "position": position,
        "role": message.role,
        "name": message.name,
        "active_swipe": min(max(message.active_swipe, 0), count - 1),
        "swipe_count": count,
        "extra": dumps(message.extra),
        "created_at": now,
    }


def _apply_fields(swipe: SwipeRow, fields: dict[str, Any]) -> None:
    check_swipe_fields(fields)
    for key, value in fields.items():
        setattr(swipe, key, dumps(value) if key == "usage" else value)


def _new_swipe(
    message_id: int, index: int, text: str, status: SwipeStatus, fields: dict[str, Any]
) -> SwipeRow:
    swipe = SwipeRow(
        message_id=message_id,
        swipe_index=index,
        text=text,
        status=status,
        reasoning="",
        usage="{}",
        created_at=utcnow(),
    )
    _apply_fields(swipe, fields)
    return swipe
