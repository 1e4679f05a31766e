"""Failed password checks per (typed user id, client address), counted atomically.

The per-account lockout (``users.locked_until``) let anyone lock any account, and its
check-then-count raced under concurrency (issue 18, findings 6 and 13). Each attempt now
reserves a failure with one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` on this
table before the password is checked, and the throttle is per account and address.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        # SHA-256 of the id as typed: a password typed into the id field is not stored.
        sa.Column("user_key", sa.String(64), primary_key=True),
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failures_window_start", "login_failures", ["window_start"])
    # A lock set by the old lockout ends now: the throttle replaces it.
    op.execute("UPDATE users SET locked_until = NULL")


def downgrade() -> None:
    op.drop_index("ix_login_failures_window_start", table_name="login_failures")
    op.drop_table("login_failures")
