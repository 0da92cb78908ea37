"""The Data Bank's vectors: each chunk's embedding by a model (search by meaning).

Revision ID: 0013_chunk_vectors
Revises: 0012_databank
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_chunk_vectors"
down_revision = "0012_databank"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``chunk_vectors`` (deleted with their chunk)."""
    op.create_table(
        "chunk_vectors",
        sa.Column(
            "chunk_id",
            sa.Integer,
            sa.ForeignKey("document_chunks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("model", sa.String(500), primary_key=True),
        sa.Column("vector", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    """Drop ``chunk_vectors``."""
    op.drop_table("chunk_vectors")
