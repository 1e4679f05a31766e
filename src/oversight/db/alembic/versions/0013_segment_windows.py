"""Bounded window queries: each camera's longest sealed segment, and segments by time.

A segment overlapping [from, to) starts in [from - longest, to), one index range on
(camera, start). That replaces the (camera, end) index of migration 0011, whose range
ran from ``from`` to the end of the camera's history: a query about old footage read
every later segment. Segments by start time alone serve windows across all cameras.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Milliseconds of (end_at - start_at). SQLite stores naive UTC text; julianday's double
# is good to about 0.05 ms at today's dates, so round up and add a millisecond: the bound
# may be a little loose, never short.
_DURATION_MS = {
    "sqlite": "CAST((julianday(end_at) - julianday(start_at)) * 86400000.0 AS INTEGER) + 2",
    "postgresql": "CAST(CEIL(EXTRACT(EPOCH FROM (end_at - start_at)) * 1000) AS BIGINT) + 1",
}


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(
            sa.Column("longest_segment_ms", sa.BigInteger(), nullable=False, server_default="0")
        )
    duration = _DURATION_MS[op.get_bind().dialect.name]
    op.execute(
        "UPDATE cameras SET longest_segment_ms = COALESCE(("  # noqa: S608  (fixed SQL per dialect)
        f"SELECT MAX({duration}) FROM segments WHERE segments.camera_id = cameras.id), 0)"
    )
    op.drop_index("ix_segments_camera_end", table_name="segments")
    op.create_index("ix_segments_start", "segments", ["start_at"])


def downgrade() -> None:
    op.drop_index("ix_segments_start", table_name="segments")
    op.create_index("ix_segments_camera_end", "segments", ["camera_id", "end_at", "start_at"])
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("longest_segment_ms")
