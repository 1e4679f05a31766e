"""Deletions whose bytes are not yet gone, by a partial index.

Every purge first finishes what an interrupted one recorded but did not remove. That
query ("deleted_at IS NOT NULL AND bytes_removed_at IS NULL") walked every segment ever
deleted through the live-segments index: after a year of purges, tens of millions of
rows per run. The partial index holds only the pending rows, so it is nearly always
empty, and a deletion enters it and leaves it again within one run.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_PENDING = "deleted_at IS NOT NULL AND bytes_removed_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_segments_pending_removal",
        "segments",
        ["id"],
        sqlite_where=sa.text(_PENDING),
        postgresql_where=sa.text(_PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_segments_pending_removal", table_name="segments")
