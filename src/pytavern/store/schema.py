"""The database tables, as SQLAlchemy 2 typed declarative models.

The schema itself is created and changed only by Alembic migrations (``migrations/``);
these classes describe it for queries.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def first_chat_revision() -> int:
    """Where a new chat's revision starts: random, so a chat that reuses a deleted chat's id
    never matches what a cache remembers of the old one."""
    return secrets.randbits(48)


class Base(DeclarativeBase):
    """Base of every table."""


class MetaRow(Base):
    """Small key/value facts about this data directory (e.g. what first run installed)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ConnectionRow(Base):
    """A named connection to a backend. Its key lives apart, in the secret store."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    name: Mapped[str] = mapped_column(String(200))
    api: Mapped[str] = mapped_column(String(50))
    url: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    options: Mapped[str] = mapped_column(Text, default="{}")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CharacterRow(Base):
    """A character: its card as SillyTavern JSON (every field kept); its avatar is a
    ``CharacterAvatarRow``."""

    __tablename__ = "characters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    name: Mapped[str] = mapped_column(String(500), index=True)
    card: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CharacterAvatarRow(Base):
    """A character's avatar image, kept apart from its row: SQLite reads past a large value
    to the columns after it, so avatars in the row made listing a library of PNG cards
    read every image."""

    __tablename__ = "character_avatars"

    character_id: Mapped[int] = mapped_column(
        ForeignKey("characters.id", ondelete="CASCADE"), primary_key=True
    )
    image: Mapped[bytes] = mapped_column(LargeBinary)


class ChatRow(Base):
    """A chat with one character."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    character_id: Mapped[int] = mapped_column(
        ForeignKey("characters.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(500), default="")
    metadata_json: Mapped[str] = mapped_column("metadata", Text, default="{}")
    next_position: Mapped[int] = mapped_column(Integer, default=0)
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Kept by every insert and delete of the chat's messages."""
    revision: Mapped[int] = mapped_column(
        BigInteger, default=first_chat_revision, server_default="0"
    )
    """Moved on by one in every transaction statement that writes the chat's messages or
    swipes (append, edit, swipe, delete): a cache of the chat is good while it is unchanged."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChatPromptRow(Base):
    """The breakdown of a chat's last prompt (what the prompt inspector shows), written
    with each reply: kept apart from the chat's metadata, which every turn reads."""

    __tablename__ = "chat_prompts"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    breakdown: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MessageRow(Base):
    """One message in a chat; its text lives in its swipes (``active_swipe`` is shown)."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("chat_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(500), default="")
    active_swipe: Mapped[int] = mapped_column(Integer, default=0)
    swipe_count: Mapped[int] = mapped_column(Integer, default=1)
    extra: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SwipeRow(Base):
    """One alternative text of a message, with how its generation ended."""

    __tablename__ = "swipes"
    __table_args__ = (UniqueConstraint("message_id", "swipe_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    swipe_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    reasoning: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="complete")
    finish_reason: Mapped[str | None] = mapped_column(String(30))
    error: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    connection: Mapped[str | None] = mapped_column(String(200))
    usage: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PersonaRow(Base):
    """A user persona: who "{{user}}" is, and where their description goes in the prompt."""

    __tablename__ = "personas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    name: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    depth: Mapped[int] = mapped_column(Integer, default=2)
    role: Mapped[int] = mapped_column(Integer, default=0)
    lorebook: Mapped[str | None] = mapped_column(String(500))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PersonaAvatarRow(Base):
    """A persona's avatar image, kept apart from its row (as ``CharacterAvatarRow``)."""

    __tablename__ = "persona_avatars"

    persona_id: Mapped[int] = mapped_column(
        ForeignKey("personas.id", ondelete="CASCADE"), primary_key=True
    )
    image: Mapped[bytes] = mapped_column(LargeBinary)


class LorebookRow(Base):
    """A lorebook (World Info) as SillyTavern JSON, every field kept."""

    __tablename__ = "lorebooks"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    name: Mapped[str] = mapped_column(String(500))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PresetRow(Base):
    """A user preset as SillyTavern JSON: instruct, context, sysprompt or sampler."""

    __tablename__ = "presets"
    __table_args__ = (UniqueConstraint("owner_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(500))
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SettingRow(Base):
    """A user preference (JSON value), e.g. the generation settings."""

    __tablename__ = "settings"

    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class UserRow(Base):
    """An account (when accounts are on). Data rows carry ``owner_id``; 0 is the single
    user of a server without accounts."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SessionRow(Base):
    """A login session; ``id`` is the SHA-256 of the cookie's token, never the token."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DocumentRow(Base):
    """A Data Bank document: text the prompt draws on by word match. Global when it has
    neither, a character's with ``character_id``, a chat's with ``chat_id``."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, default=0, index=True)
    character_id: Mapped[int | None] = mapped_column(
        ForeignKey("characters.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int | None] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DocumentChunkRow(Base):
    """One piece of a document, what a lookup finds and the prompt carries."""

    __tablename__ = "document_chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class ChunkVectorRow(Base):
    """A chunk's embedding by one model (float32, little-endian): how the Data Bank finds
    chunks by meaning. Not a library row: making vectors changes nothing a turn reads
    from the library."""

    __tablename__ = "chunk_vectors"

    chunk_id: Mapped[int] = mapped_column(
        ForeignKey("document_chunks.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(500), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
