"""Recorder: gaps, camera status, quarantined segments, recorder events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gaps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("start_at", TS, nullable=False),
        sa.Column("end_at", TS, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_gaps_camera_start", "gaps", ["camera_id", "start_at"])
    op.create_table(
        "camera_status",
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", TS, nullable=False),
        sa.Column("last_segment_at", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "quarantined_segments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("camera_id", "filename", name="uq_quarantine_file"),
    )
    op.create_table(
        "recorder_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64)),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_recorder_events_at", "recorder_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_recorder_events_at", table_name="recorder_events")
    op.drop_index("ix_gaps_camera_start", table_name="gaps")
    for table in ("recorder_events", "quarantined_segments", "camera_status", "gaps"):
        op.drop_table(table)
