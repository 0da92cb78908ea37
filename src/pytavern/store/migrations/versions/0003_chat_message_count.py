"""Chats keep their message count (no counting on every read).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``chats.message_count`` and fill it from the messages there are."""
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("message_count", sa.Integer, nullable=False, server_default="0"))
    op.execute(
        "UPDATE chats SET message_count = "
        "(SELECT count(*) FROM messages WHERE messages.chat_id = chats.id)"
    )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("message_count")
