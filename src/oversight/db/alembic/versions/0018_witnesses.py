"""Witnesses, log side (issue 20): the cosignatures of each checkpoint, and what each
configured witness last cosigned.

``witness_cosignatures`` keeps every cosignature line a witness returned, by checkpoint
size, so the checkpoint note with them is the stored note plus these lines.
``witness_states`` remembers, per witness verifier key, the size it last cosigned (the
old size of the next submission), its newest cosigned checkpoint note, when it last
answered, since when it fails, and its open deployment-level alarm, if any.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "witness_cosignatures",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("witness", sa.String(300), primary_key=True),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "witness_states",
        sa.Column("witness", sa.String(300), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger),
        sa.Column("note", sa.Text),
        sa.Column("last_ok_at", sa.DateTime(timezone=True)),
        sa.Column("failing_since", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("alarm", sa.String(32)),
        sa.Column("alarm_since", sa.DateTime(timezone=True)),
        sa.Column("alarm_detail", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("witness_states")
    op.drop_table("witness_cosignatures")
