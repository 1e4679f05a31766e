"""Recorder pool (issue 21): nodes, camera leases with a fencing epoch, and who sealed
each segment.

``recorder_nodes`` is one row per node name: where it runs, its capacity, when it last
heartbeat (the database clock), whether it is draining or stopped, and the identity of
the store it writes to (a pool's nodes must share one). ``camera_leases`` holds, per
camera, the node recording it, the epoch of that claim (incremented by every claim: the
fencing token the seal transaction checks) and when the lease expires (database clock).
``segments.node``/``epoch`` name the sealer; ``late`` marks footage a node sealed after
it had lost the camera's lease (kept, chained, never the owner's copy). ``cameras.
priority``: higher is claimed first when capacity is short.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recorder_nodes",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("store", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("draining", sa.Boolean, nullable=False, server_default=sa.false()),
        # Set when a node joins or on `oversight nodes rebalance`: at its next cycle the
        # node lets go what it holds beyond its fair share (never on its own, so a node
        # back from a partition does not take cameras back).
        sa.Column("rebalance", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("stopped_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "camera_leases",
        sa.Column("camera_id", sa.String(64), sa.ForeignKey("cameras.id"), primary_key=True),
        sa.Column("node", sa.String(64)),
        sa.Column("epoch", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        # Set when the node let the camera go (drain, stop, rebalance): claimable at once.
        sa.Column("released", sa.String(16)),
    )
    op.create_index("ix_camera_leases_node", "camera_leases", ["node"])
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("node", sa.String(64)))
        batch.add_column(sa.Column("epoch", sa.BigInteger))
        batch.add_column(sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("cameras") as batch:
        batch.add_column(sa.Column("priority", sa.Integer, nullable=False, server_default="5"))


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("priority")
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("late")
        batch.drop_column("epoch")
        batch.drop_column("node")
    op.drop_index("ix_camera_leases_node", "camera_leases")
    op.drop_table("camera_leases")
    op.drop_table("recorder_nodes")
