"""Avatar images, kept in tables of their own (``character_avatars``, ``persona_avatars``):
one row per character or persona that has one, keyed by its id (see migration 0014)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Label, delete, insert, select
from sqlalchemy.orm import InstrumentedAttribute, Session


def has_avatar(key: InstrumentedAttribute[int], owner: InstrumentedAttribute[int]) -> Label[bool]:
    """Whether the row ``owner`` (an id column) has an image in ``key``'s table, without
    reading the image."""
    return select(key).where(key == owner).exists().label("has_avatar")


def replace_avatar(
    session: Session, key: InstrumentedAttribute[int], owner_id: int, image: bytes
) -> None:
    """Make ``image`` the avatar of ``owner_id`` in ``key``'s table."""
    table: Any = key.class_
    session.execute(delete(table).where(key == owner_id))
    session.execute(insert(table).values({key.key: owner_id, "image": image}))


def avatar_image(session: Session, key: InstrumentedAttribute[int], owner_id: int) -> bytes | None:
    """The avatar of ``owner_id`` in ``key``'s table, if it has one."""
    table: Any = key.class_
    image: bytes | None = session.scalar(select(table.image).where(key == owner_id))
    return image
