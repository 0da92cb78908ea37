"""Avatars in tables of their own (``character_avatars``, ``persona_avatars``).

SQLite reads a row's columns in order, through the overflow pages of a large value to
reach the columns after it: with each avatar (hundreds of KB) in its character's row,
listing a library of PNG cards read every image. The images move to their own tables,
one row per character or persona that has one (deleted with it).

Revision ID: 0014_avatars_apart
Revises: 0013_chunk_vectors
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_avatars_apart"
down_revision = "0013_chunk_vectors"
branch_labels = None
depends_on = None

_OWNERS = (
    ("character_avatars", "character_id", "characters"),
    ("persona_avatars", "persona_id", "personas"),
)


def upgrade() -> None:
    """Create the avatar tables, move the images there, drop the old columns."""
    for table, key, owner in _OWNERS:
        op.create_table(
            table,
            sa.Column(
                key, sa.Integer, sa.ForeignKey(f"{owner}.id", ondelete="CASCADE"), primary_key=True
            ),
            sa.Column("image", sa.LargeBinary, nullable=False),
        )
        op.execute(
            f"INSERT INTO {table} ({key}, image) SELECT id, avatar FROM {owner} "
            "WHERE avatar IS NOT NULL"
        )
        op.execute(f"ALTER TABLE {owner} DROP COLUMN avatar")


def downgrade() -> None:
    """Put the images back in their rows."""
    for table, key, owner in _OWNERS:
        op.add_column(owner, sa.Column("avatar", sa.LargeBinary, nullable=True))
        op.execute(
            f"UPDATE {owner} SET avatar = (SELECT image FROM {table} WHERE {key} = {owner}.id)"
        )
        op.drop_table(table)
