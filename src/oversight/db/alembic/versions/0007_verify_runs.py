"""Verify runs: the result of each `oversight verify`, for the dashboard and the API.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "verify_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("ledger_size", sa.BigInteger, nullable=False),
        sa.Column("segments_checked", sa.BigInteger, nullable=False),
        sa.Column("sampled", sa.Boolean, nullable=False),
        sa.Column("problems", sa.JSON, nullable=False),
        sa.Column("run_by", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("verify_runs")
