"""Retention: keep-for policies, important marks, legal holds, purge runs.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("keep_days", sa.Integer, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", _TS, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "retention_marks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("start_at", _TS, nullable=False),
        sa.Column("end_at", _TS, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("marked_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "retention_holds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("start_at", _TS, nullable=False),
        sa.Column("end_at", _TS, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("placed_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
        sa.Column("released_at", _TS),
        sa.Column("released_by", sa.String(64)),
        sa.Column("release_reason", sa.Text),
        sa.Column("release_leaf", sa.BigInteger),
    )
    op.create_table(
        "purge_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("plan_at", _TS, nullable=False),
        sa.Column("finished_at", _TS),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("segments", sa.Integer, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("first_leaf", sa.BigInteger),
        sa.Column("last_leaf", sa.BigInteger),
        sa.Column("certificate", sa.Text),
    )
    op.create_index("ix_segments_live", "segments", ["deleted_at", "camera_id", "start_at"])
    op.add_column("segments", sa.Column("bytes_removed_at", _TS))


def downgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("bytes_removed_at")
    op.drop_index("ix_segments_live", table_name="segments")
    for table in ("purge_runs", "retention_holds", "retention_marks", "retention_policies"):
        op.drop_table(table)
