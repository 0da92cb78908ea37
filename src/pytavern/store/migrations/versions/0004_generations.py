"""Running generations, so that server processes sharing a database can find each other's.

Revision ID: 0004_generations
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_generations"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``generations``."""
    op.create_table(
        "generations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner_id", sa.Integer, nullable=False),
        sa.Column("chat_id", sa.Integer, nullable=False, index=True),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("ended", sa.Float, nullable=True),
    )


def downgrade() -> None:
    """Drop ``generations``."""
    op.drop_table("generations")
