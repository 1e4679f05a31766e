"""Redundant recording (issue 21, item 6): a camera marked ``redundant`` is recorded by
two nodes at once, each under its own lease.

``camera_leases`` gets a ``copy`` column (0: the camera's first recording, 1: its
redundant second) and its key becomes (camera, copy), so each copy has its own owner
and fencing epoch. ``segments.copy`` and ``gaps.copy`` say which copy a segment or a
gap belongs to; both copies are chained in the camera's one segment chain. Every
camera gets its lease row here (and at registration from now on), so the nodes' cycles
no longer insert them.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(
            sa.Column("redundant", sa.Boolean, nullable=False, server_default=sa.false())
        )
    for table in ("segments", "gaps"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("copy", sa.Integer, nullable=False, server_default="0"))
    # The key changes: a new table, the epochs (fencing tokens) carried over as copy 0.
    op.create_table(
        "camera_leases_v2",
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), primary_key=True),
        sa.Column("copy", sa.Integer, primary_key=True, server_default="0"),
        sa.Column("node", sa.String(64)),
        sa.Column("epoch", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("released", sa.String(16)),
    )
    op.execute(
        "INSERT INTO camera_leases_v2 (camera_id, copy, node, epoch, expires_at, claimed_at, "
        "released) SELECT camera_id, 0, node, epoch, expires_at, claimed_at, released "
        "FROM camera_leases"
    )
    # Every camera has its lease row from its registration on (services/registry.py),
    # not made by each node's cycle: the cameras registered before this get theirs.
    op.execute(
        "INSERT INTO camera_leases_v2 (camera_id, copy, epoch) SELECT id, 0, 0 FROM cameras "
        "WHERE id NOT IN (SELECT camera_id FROM camera_leases)"
    )
    op.drop_index("ix_camera_leases_node", "camera_leases")
    op.drop_table("camera_leases")
    op.rename_table("camera_leases_v2", "camera_leases")
    op.create_index("ix_camera_leases_node", "camera_leases", ["node"])


def downgrade() -> None:
    op.create_table(
        "camera_leases_v1",
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), primary_key=True),
        sa.Column("node", sa.String(64)),
        sa.Column("epoch", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("released", sa.String(16)),
    )
    op.execute(
        "INSERT INTO camera_leases_v1 (camera_id, node, epoch, expires_at, claimed_at, "
        "released) SELECT camera_id, node, epoch, expires_at, claimed_at, released "
        "FROM camera_leases WHERE copy = 0"
    )
    op.drop_index("ix_camera_leases_node", "camera_leases")
    op.drop_table("camera_leases")
    op.rename_table("camera_leases_v1", "camera_leases")
    op.create_index("ix_camera_leases_node", "camera_leases", ["node"])
    for table in ("gaps", "segments"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("copy")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("redundant")
