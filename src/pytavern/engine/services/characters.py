"""Characters: list, find, create, change, delete, avatars, and card files in and out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytavern.engine import tags as tagging
from pytavern.engine import transfer
from pytavern.engine.services._base import Service
from pytavern.errors import FormatError, NotFoundError
from pytavern.formats.cards import card_from_dict
from pytavern.prompt.macros import MacroContext, evaluate
from pytavern.store import CharacterRecord, Store


@dataclass(frozen=True, slots=True)
class CardFile:
    """An exported card: its bytes and the media type they are in."""

    data: bytes
    media_type: str
    filename: str


def image_type(data: bytes) -> str:
    """The media type of an image, from its first bytes."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def check_image(data: bytes) -> bytes:
    """``data`` when it is a PNG, JPEG, GIF or WebP image; a ``FormatError`` otherwise."""
    if image_type(data) == "application/octet-stream":
        raise FormatError("the avatar must be a PNG, JPEG, GIF or WebP image")
    return data


def character_summary(record: CharacterRecord) -> dict[str, Any]:
    """A character as the gallery lists it."""
    card = transfer.character_card(record)
    blurb = evaluate(card.description[:280], MacroContext(user="you", char=record.name))
    return {
        "id": record.id,
        "name": record.name,
        "description": blurb,
        "tags": [str(t) for t in card.tags][:12],
        "has_avatar": record.has_avatar,
        "updated_at": record.updated_at.isoformat(),
    }


def character_detail(record: CharacterRecord) -> dict[str, Any]:
    """A character with its whole card."""
    return character_summary(record) | {"card": record.card}


def character_by_id_or_name(store: Store, which: str | int) -> CharacterRecord:
    """The character ``which`` names: an id (an int, or a string of digits), else a name."""
    if isinstance(which, int) or which.isdigit():
        try:
            return store.get_character(int(which))
        except NotFoundError:
            if isinstance(which, int):
                raise
    return store.find_character(str(which))


class CharacterService(Service):
    """Everything about characters."""

    def all(self, tag: str | None = None) -> list[CharacterRecord]:
        """Every character, by name (only those carrying ``tag``, any case, when given)."""
        records = self._engine.store.list_characters()
        return [r for r in records if tagging.has_tag(r, tag)] if tag else records

    def tags(self) -> list[tuple[str, int]]:
        """Every tag in use with how many characters carry it, most used first."""
        return tagging.tag_counts(self._engine.store.list_characters())

    def set_tags(self, character_id: int, new_tags: list[str]) -> CharacterRecord:
        """Replace a character's tags (kept in its card)."""
        record = self.get(character_id)
        card = tagging.card_with_tags(record.card, tagging.clean_tags(new_tags))
        return self._engine.store.update_character(character_id, card_from_dict(card).raw)

    def get(self, character_id: int) -> CharacterRecord:
        """One character by id."""
        return self._engine.store.get_character(character_id)

    def find(self, name: str) -> CharacterRecord:
        """One character by name."""
        return self._engine.store.find_character(name)

    def by_id_or_name(self, which: str | int) -> CharacterRecord:
        """A character by id (an int, or a string of digits), else by name (a character may
        be named with digits)."""
        return character_by_id_or_name(self._engine.store, which)

    def pick(self, which: str | int | None) -> CharacterRecord:
        """A character by id or name, or the first one when ``which`` is None (the default
        character on a fresh install)."""
        if isinstance(which, int):
            return self.get(which)
        if which:
            return self.find(which)
        characters = sorted(self.all(), key=lambda c: c.id)
        if not characters:
            raise NotFoundError(
                "there are no characters", hint="Import one with `pytavern characters import FILE`"
            )
        return characters[0]

    def create(self, card: dict[str, Any]) -> CharacterRecord:
        """Create a character from a card dict (V1 flat, V2 or V3 with ``data``)."""
        return self._engine.store.add_character(card_from_dict(card).raw)

    def update(self, character_id: int, card: dict[str, Any]) -> CharacterRecord:
        """Replace a character's card."""
        return self._engine.store.update_character(character_id, card_from_dict(card).raw)

    def delete(self, character_id: int) -> None:
        """Delete a character and its chats."""
        self._engine.store.delete_character(character_id)

    def avatar(self, character_id: int) -> bytes:
        """The character's avatar image (``NotFoundError`` when it has none)."""
        avatar = self._engine.store.character_avatar(character_id)
        if avatar is None:
            raise NotFoundError(f"character {character_id} has no avatar")
        return avatar

    def set_avatar(self, character_id: int, image: bytes) -> CharacterRecord:
        """Replace the character's avatar (a PNG, JPEG, GIF or WebP image)."""
        record = self.get(character_id)
        return self._engine.store.update_character(
            character_id, record.card, avatar=check_image(image)
        )

    def import_bytes(self, data: bytes, filename: str) -> CharacterRecord:
        """Store a character from a card file's bytes (PNG, CharX or JSON)."""
        limit = self._engine.settings.max_upload_bytes
        return transfer.import_card(self._engine.store, data, filename, limit)

    def export(self, character_id: int, *, png: bool) -> CardFile:
        """A character's card as PNG (with its avatar) or JSON."""
        record = self.get(character_id)
        data = transfer.export_card(self._engine.store, character_id, png=png)
        suffix, media_type = ("png", "image/png") if png else ("json", "application/json")
        return CardFile(data, media_type, f"{record.name}.{suffix}")

    def chat_count(self, character_id: int) -> int:
        """How many chats the character has."""
        return len(self._engine.store.list_chats(character_id))
