"""Stored groups: SillyTavern's group JSON, the characters its members are, its chat.

``data`` keeps the group file as SillyTavern wrote it (every field); ``member_ids`` are the
pytavern characters its ``members`` name, in the same order; ``chat_id`` is the group's
current chat (a chat whose character is the first member; when that character is deleted,
another member's: ``rehome_group_chats``). A character's own chats leave group chats out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pytavern.errors import ConfigError, NotFoundError
from pytavern.store._base import StoreBase, dumps, loads
from pytavern.store.schema import CharacterRow, ChatRow, utcnow

_metadata = sa.MetaData()
groups = sa.Table(
    "groups",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("member_ids", sa.Text, nullable=False),
    sa.Column("chat_id", sa.Integer, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A stored group."""

    id: int
    name: str
    data: dict[str, Any]
    member_ids: list[int]
    chat_id: int | None
    created_at: datetime


def _record(row: sa.Row[Any]) -> GroupRecord:
    return GroupRecord(
        id=row.id,
        name=row.name,
        data=loads(row.data),
        member_ids=[int(i) for i in loads(row.member_ids) or []],
        chat_id=row.chat_id,
        created_at=row.created_at,
    )


class GroupsMixin(StoreBase):
    """Group storage."""

    def create_group(
        self, name: str, data: dict[str, Any], member_ids: list[int], chat_id: int | None
    ) -> GroupRecord:
        """Store a new group; its name must be new."""
        with self.transaction() as session:
            if session.execute(self._owned_groups().where(groups.c.name == name)).first():
                raise ConfigError(
                    f"a group named {name!r} exists already",
                    hint="Pick another name, or delete the old group first",
                )
            values = {
                "owner_id": self.owner_id,
                "name": name,
                "data": dumps(data),
                "member_ids": dumps(member_ids),
                "chat_id": chat_id,
                "created_at": utcnow(),
            }
            new_id = session.execute(groups.insert().values(**values).returning(groups.c.id))
            row = session.execute(
                self._owned_groups().where(groups.c.id == new_id.scalar_one())
            ).one()
            return _record(row)

    def unique_group_name(self, name: str) -> str:
        """``name``, or ``name (2)``, ``name (3)``... when a group has it already."""
        taken = {g.name for g in self.list_groups()}
        final, number = name, 1
        while final in taken:
            number += 1
            final = f"{name} ({number})"
        return final

    def list_groups(self) -> list[GroupRecord]:
        """Every group, by name."""
        with self.transaction() as session:
            rows = session.execute(self._owned_groups().order_by(groups.c.name, groups.c.id))
            return [_record(row) for row in rows]

    def get_group(self, group_id: int) -> GroupRecord:
        """The group with this id."""
        with self.transaction() as session:
            row = session.execute(self._owned_groups().where(groups.c.id == group_id)).first()
        if row is None:
            raise NotFoundError(f"no group with id {group_id}", hint="List groups to see ids")
        return _record(row)

    def group_of_chat(self, chat_id: int) -> GroupRecord | None:
        """The group whose current chat this is, if one's is."""
        with self.transaction() as session:
            row = session.execute(self._owned_groups().where(groups.c.chat_id == chat_id)).first()
        return None if row is None else _record(row)

    def find_group(self, name: str) -> GroupRecord:
        """The group with this name (exact, else case-insensitive)."""
        found = [g for g in self.list_groups() if g.name == name] or [
            g for g in self.list_groups() if g.name.casefold() == name.casefold()
        ]
        if not found:
            raise NotFoundError(
                f"no group named {name!r}", hint="Run `pytavern groups list` to see the groups"
            )
        return found[0]

    def update_group(
        self,
        group_id: int,
        *,
        data: dict[str, Any] | None = None,
        member_ids: list[int] | None = None,
        chat_id: int | None = None,
    ) -> GroupRecord:
        """Change a group's file, members or current chat (what is given)."""
        values: dict[str, Any] = {}
        if data is not None:
            values["data"] = dumps(data)
            values["name"] = str(data.get("name") or "")
        if member_ids is not None:
            values["member_ids"] = dumps(member_ids)
        if chat_id is not None:
            values["chat_id"] = chat_id
        self.get_group(group_id)
        if values:
            with self.transaction() as session:
                session.execute(
                    groups.update()
                    .where(groups.c.id == group_id, groups.c.owner_id == self.owner_id)
                    .values(**values)
                )
        return self.get_group(group_id)

    def delete_group(self, group_id: int) -> None:
        """Delete a group (its chats stay, as chats of its first member)."""
        self.get_group(group_id)
        with self.transaction() as session:
            session.execute(
                groups.delete().where(groups.c.id == group_id, groups.c.owner_id == self.owner_id)
            )

    def _owned_groups(self) -> sa.Select[Any]:
        return sa.select(groups).where(groups.c.owner_id == self.owner_id)


def group_chat_ids() -> sa.Select[Any]:
    """The ids of the chats that are groups' chats (a subquery)."""
    return sa.select(groups.c.chat_id).where(groups.c.chat_id.is_not(None))


def rehome_group_chats(session: Session, owner_id: int, character_id: int) -> None:
    """Give each group chat that ``character_id`` holds to another living member of its
    group, so deleting that character does not delete the group's chat (one left with no
    other member goes with the character, as its own chats do)."""
    hosted = session.execute(
        sa.select(groups.c.chat_id, groups.c.member_ids)
        .join(ChatRow, ChatRow.id == groups.c.chat_id)
        .where(groups.c.owner_id == owner_id, ChatRow.character_id == character_id)
    ).all()
    for chat_id, member_ids in hosted:
        others = [int(i) for i in loads(member_ids) or [] if int(i) != character_id]
        living = set(
            session.scalars(
                sa.select(CharacterRow.id).where(
                    CharacterRow.id.in_(others), CharacterRow.owner_id == owner_id
                )
            )
        )
        heir = next((i for i in others if i in living), None)
        if heir is not None:
            session.execute(
                sa.update(ChatRow).where(ChatRow.id == chat_id).values(character_id=heir)
            )
