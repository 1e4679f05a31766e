"""Operations: camera alarms, maintenance (schedules, inspections, emergency procedures,
repairs) and incident reports.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("seen", sa.Integer, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
        sa.Column("ended_at", _TS),
        sa.Column("end_leaf", sa.BigInteger),
        sa.Column("acked_by", sa.String(64)),
        sa.Column("acked_at", _TS),
        sa.Column("ack_note", sa.Text),
        sa.Column("ack_leaf", sa.BigInteger),
    )
    op.create_index("ix_alarms_camera_id", "alarms", ["camera_id"])
    # At most one open alarm per camera and kind: concurrent raisers deduplicate on it.
    op.create_index(
        "uq_alarms_open",
        "alarms",
        ["camera_id", "kind"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "inspection_schedules",
        sa.Column("scope", sa.String(80), primary_key=True),
        sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id")),
        sa.Column("interval_days", sa.Integer, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", _TS, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id")),
        sa.Column("inspected_on", sa.Date, nullable=False),
        sa.Column("inspector", sa.String(64), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_inspections_site_id", "inspections", ["site_id"])
    op.create_table(
        "emergency_procedures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text),
        sa.Column("document_sha256", sa.String(64)),
        sa.Column("filename", sa.String(255)),
        sa.Column("adopted_on", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_emergency_procedures_site_id", "emergency_procedures", ["site_id"])
    op.create_table(
        "repairs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("repaired_on", sa.Date, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("alarm_id", sa.Integer, sa.ForeignKey("alarms.id")),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_repairs_camera_id", "repairs", ["camera_id"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("cameras", sa.JSON, nullable=False),
        sa.Column("start_at", _TS, nullable=False),
        sa.Column("end_at", _TS, nullable=False),
        sa.Column("reported_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
        sa.Column("marks", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("incidents")
    op.drop_table("repairs")
    op.drop_table("emergency_procedures")
    op.drop_index("ix_inspections_site_id", table_name="inspections")
    op.drop_table("inspections")
    op.drop_table("inspection_schedules")
    op.drop_index("uq_alarms_open", table_name="alarms")
    op.drop_index("ix_alarms_camera_id", table_name="alarms")
    op.drop_table("alarms")
