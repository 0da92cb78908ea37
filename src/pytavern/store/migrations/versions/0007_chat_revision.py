"""Chats keep a revision that every write to their messages or swipes moves on.

Revision ID: 0007_chat_revision
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_chat_revision"
down_revision = "0006_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``chats.revision`` (existing chats start at 0)."""
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("revision")
