"""Group chats: groups of characters, kept as SillyTavern group JSON.

Revision ID: 0005_h16a_groups
Revises: 0004_generations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_h16a_groups"
down_revision = "0004_generations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``groups``."""
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, nullable=False, index=True, server_default="0"),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("member_ids", sa.Text, nullable=False),
        sa.Column(
            "chat_id", sa.Integer, sa.ForeignKey("chats.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop ``groups``."""
    op.drop_table("groups")
