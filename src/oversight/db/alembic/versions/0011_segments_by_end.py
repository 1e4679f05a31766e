"""Segments by camera and end time, so "which segments overlap [from, to)" is two index
range scans instead of a scan of the camera's whole history before ``to``.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_segments_camera_end", "segments", ["camera_id", "end_at", "start_at"])


def downgrade() -> None:
    op.drop_index("ix_segments_camera_end", table_name="segments")
