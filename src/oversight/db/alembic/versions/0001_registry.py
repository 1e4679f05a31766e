"""Registry: organisations, sites, cameras, filings, obstructions.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("qualification_no", sa.String(100)),
        sa.Column("qualification_expires", sa.Date),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(64), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("managing_body", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id"), nullable=False),
        sa.Column("placement", sa.String(64), nullable=False),
        sa.Column("coverage_point", sa.String(64), nullable=False),
        sa.Column("stream_url", sa.Text, nullable=False),
        sa.Column("installer_id", sa.String(64), sa.ForeignKey("organisations.id")),
        sa.Column("commissioned", sa.Date, nullable=False),
        sa.Column("removed", sa.Date),
        sa.Column("privacy_masks", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_cameras_site", "cameras", ["site_id"])
    op.create_table(
        "filings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("filed_on", sa.Date, nullable=False),
        sa.Column("receipt", sa.String(100), nullable=False),
        sa.Column("police_office", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("camera_id", "kind", name="uq_filing_camera_kind"),
    )
    op.create_table(
        "obstructions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), nullable=False),
        sa.Column("reported_on", sa.Date, nullable=False),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("responsible_party", sa.String(200)),
        sa.Column("resolved_on", sa.Date),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("obstructions", "filings", "cameras", "sites", "organisations"):
        op.drop_table(table)
