"""Chats keep a revision that every write to their messages or swipes moves on.

Revision ID: 0007_chat_revision
Revises: 0006_search
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
    """Drop the column (in place: SQLite 3.35+ and PostgreSQL drop a column themselves, and
    a batch copy of ``chats`` would be refused while the search triggers hold it)."""
    op.drop_column("chats", "revision")
