"""Stored characters: the card (every field kept) and the avatar."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pytavern.errors import NotFoundError
from pytavern.store._base import dumps, loads
from pytavern.store.avatars import avatar_image, replace_avatar
from pytavern.store.groups import rehome_group_chats
from pytavern.store.queries import CHARACTER_COLUMNS, QueriesMixin
from pytavern.store.records import CharacterRecord
from pytavern.store.schema import CharacterAvatarRow, CharacterRow, utcnow


def card_name(card: dict[str, Any]) -> str:
    """The character's name from a V1, V2 or V3 card dict."""
    data = card.get("data")
    if isinstance(data, dict) and isinstance(data.get("name"), str):
        return str(data["name"])
    return str(card.get("name", ""))


def _record(row: Any) -> CharacterRecord:
    """A character from the columns of ``_LISTED``."""
    return CharacterRecord(
        id=row.id,
        name=row.name,
        card=loads(row.card),
        has_avatar=bool(row.has_avatar),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


_LISTED = select(*CHARACTER_COLUMNS)


class CharactersMixin(QueriesMixin):
    """Character storage."""

    def add_character(self, card: dict[str, Any], avatar: bytes | None = None) -> CharacterRecord:
        """Store a new character from its card dict."""
        with self.transaction() as session:
            row = CharacterRow(owner_id=self.owner_id, name=card_name(card), card=dumps(card))
            session.add(row)
            session.flush()
            if avatar is not None:
                replace_avatar(session, CharacterAvatarRow.character_id, row.id, avatar)
            character_id = row.id
        return self.get_character(character_id)

    def update_character(
        self, character_id: int, card: dict[str, Any], avatar: bytes | None = None
    ) -> CharacterRecord:
        """Replace a character's card (and avatar, when given)."""
        with self.transaction() as session:
            row = self._character_row(session, character_id)
            row.name, row.card, row.updated_at = card_name(card), dumps(card), utcnow()
            if avatar is not None:
                replace_avatar(session, CharacterAvatarRow.character_id, character_id, avatar)
        return self.get_character(character_id)

    def get_character(self, character_id: int) -> CharacterRecord:
        """The character with this id."""
        with self.queries() as queries:
            stored = queries.character(character_id)
        return CharacterRecord(
            id=stored.id,
            name=stored.name,
            card=loads(stored.card_json),
            has_avatar=stored.has_avatar,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
        )

    def find_character(self, name: str) -> CharacterRecord:
        """The character called ``name`` (case-insensitive; the newest if several)."""
        with self.transaction() as session:
            row = session.execute(
                _LISTED.where(
                    CharacterRow.owner_id == self.owner_id,
                    func.lower(CharacterRow.name) == name.lower(),
                ).order_by(CharacterRow.id.desc())
            ).first()
            if row is not None:
                return _record(row)
            names = session.scalars(
                select(CharacterRow.name).where(CharacterRow.owner_id == self.owner_id)
            ).all()
        raise NotFoundError(
            f"no character named {name!r}",
            hint=f"Known characters: {', '.join(names) or 'none'}",
        )

    def list_characters(self) -> list[CharacterRecord]:
        """Every character, by name."""
        query = _LISTED.where(CharacterRow.owner_id == self.owner_id).order_by(CharacterRow.name)
        with self.transaction() as session:
            rows = session.execute(query).all()
        return [_record(row) for row in rows]

    def character_avatar(self, character_id: int) -> bytes | None:
        """The avatar image bytes, if the character has one."""
        with self.transaction() as session:
            self._character_row(session, character_id)  # this owner's, or NotFoundError
            return avatar_image(session, CharacterAvatarRow.character_id, character_id)

    def delete_character(self, character_id: int) -> None:
        """Delete a character and its chats; a group's chat it held passes to another
        member of the group (``rehome_group_chats``)."""
        with self.transaction() as session:
            row = self._character_row(session, character_id)
            rehome_group_chats(session, self.owner_id, character_id)
            session.delete(row)

    def _character_row(self, session: Session, character_id: int) -> CharacterRow:
        row = self.owned(session, CharacterRow, character_id)
        if row is None:
            raise NotFoundError(f"no character with id {character_id}")
        return row
