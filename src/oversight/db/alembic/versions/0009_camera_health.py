"""Camera health: the monitor's latest measurements per camera.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "camera_health",
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("since", _TS, nullable=False),
        sa.Column("fps", sa.Float, nullable=False),
        sa.Column("kbps", sa.Float, nullable=False),
        sa.Column("last_frame_at", _TS, nullable=True),
        sa.Column("tamper", sa.JSON, nullable=False),
        sa.Column("reference", sa.Boolean, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("camera_health")
