"""The usage ledger: one row per request sent to a backend (tokens, time, outcome, cost).

Revision ID: 0008_usage
Revises: 0007_chat_revision
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_usage"
down_revision = "0007_chat_revision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``usage_ledger``."""
    op.create_table(
        "usage_ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner_id", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sa.Column("chat_id", sa.Integer, nullable=True),
        sa.Column("connection", sa.String(200), nullable=False),
        sa.Column("api", sa.String(40), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("input_tokens", sa.Integer, nullable=True),
        sa.Column("output_tokens", sa.Integer, nullable=True),
        sa.Column("cached_tokens", sa.Integer, nullable=True),
        sa.Column("cache_write_tokens", sa.Integer, nullable=True),
        sa.Column("reasoning_tokens", sa.Integer, nullable=True),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("ttft", sa.Float, nullable=True),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("cost", sa.Float, nullable=True),
    )


def downgrade() -> None:
    """Drop ``usage_ledger``."""
    op.drop_table("usage_ledger")
