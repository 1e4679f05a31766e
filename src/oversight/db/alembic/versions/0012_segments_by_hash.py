"""Segments by camera and hash, so a seal's "is this file sealed already?" check (its
crash idempotency) is one index lookup, not a scan of the camera's whole history.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_segments_camera_sha256", "segments", ["camera_id", "sha256"])


def downgrade() -> None:
    op.drop_index("ix_segments_camera_sha256", table_name="segments")
