"""The last prompt's breakdown moves from the chat's metadata to its own table.

Every turn reads a chat's metadata and wrote it back whole for the breakdown (about 15 KB
of JSON); now a turn writes one row of ``chat_prompts`` and leaves the metadata alone.

Revision ID: 0009_chat_prompts
Revises: 0008_usage
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009_chat_prompts"
down_revision = "0008_usage"
branch_labels = None
depends_on = None

_KEY = "last_prompt"


def upgrade() -> None:
    """Create ``chat_prompts`` and move each chat's ``last_prompt`` into it."""
    prompts = op.create_table(
        "chat_prompts",
        sa.Column(
            "chat_id",
            sa.Integer,
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("breakdown", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    chats = sa.table(
        "chats",
        sa.column("id", sa.Integer),
        sa.column("metadata", sa.Text),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    found = bind.execute(
        sa.select(chats.c.id, chats.c.metadata, chats.c.updated_at).where(
            chats.c.metadata.like(f'%"{_KEY}"%')
        )
    )
    for chat_id, text, updated_at in found.all():
        metadata = _parsed(text)
        last = metadata.pop(_KEY, None)
        if last is None:
            continue
        if isinstance(last, dict):
            breakdown = json.dumps(last, ensure_ascii=False, separators=(",", ":"))
            row = {"chat_id": chat_id, "breakdown": breakdown, "updated_at": updated_at}
            bind.execute(prompts.insert().values(**row))
        kept = json.dumps(metadata, ensure_ascii=False, separators=(",", ":"))
        bind.execute(chats.update().where(chats.c.id == chat_id).values(metadata=kept))


def _parsed(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def downgrade() -> None:
    """Drop ``chat_prompts`` (the breakdowns are not moved back: the next reply writes one)."""
    op.drop_table("chat_prompts")
