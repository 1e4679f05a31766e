"""Ledger: each leaf row carries the subtree hashes it completes; ``ledger_nodes`` goes.

Node (L, n), L >= 1, becomes complete exactly when leaf ``((n + 1) << L) - 1`` is
appended, so it is stored in that leaf's row (``parents``, level 1 first, 32 bytes
each). An append then writes one row per leaf instead of a leaf row plus, on average,
one node row, and on SQLite the index becomes the rowid (``INTEGER PRIMARY KEY``), so
no second B-tree is updated. The table is rebuilt for that; every hash is carried over
unchanged, and the downgrade splits the rows back out.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_HASH = 32
_BATCH = 10_000


def _leaves_table(name: str) -> sa.Table:
    return op.create_table(
        name,
        sa.Column(
            "idx",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("parents", sa.LargeBinary, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )


def _parents_by_leaf(conn: sa.Connection) -> Iterator[tuple[int, bytes]]:
    """(leaf index, concatenated parent hashes) from ``ledger_nodes``, leaf by leaf."""
    rows = conn.execute(
        sa.text(
            "SELECT ((idx + 1) << level) - 1 AS leaf, level, hash FROM ledger_nodes "
            "ORDER BY leaf, level"
        )
    )
    current = -1
    hashes: list[bytes] = []
    for leaf, level, h in rows:
        if leaf != current:
            if hashes:
                yield current, b"".join(hashes)
            current, hashes = int(leaf), []
        if level != len(hashes) + 1:
            raise RuntimeError(f"ledger node ({level}) of leaf {leaf} has no lower sibling levels")
        hashes.append(bytes(h))
    if hashes:
        yield current, b"".join(hashes)


def upgrade() -> None:
    conn = op.get_bind()
    new = _leaves_table("ledger_leaves_v2")
    old = sa.table(
        "ledger_leaves",
        sa.column("idx"),
        sa.column("kind"),
        sa.column("data"),
        sa.column("leaf_hash"),
        sa.column("created_at"),
    )
    conn.execute(
        new.insert().from_select(
            ["idx", "kind", "data", "leaf_hash", "parents", "created_at"],
            sa.select(
                old.c.idx,
                old.c.kind,
                old.c.data,
                old.c.leaf_hash,
                sa.literal(b"", sa.LargeBinary),
                old.c.created_at,
            ),
        )
    )
    update = (
        new.update().where(new.c.idx == sa.bindparam("leaf")).values(parents=sa.bindparam("hashes"))
    )
    batch: list[dict[str, object]] = []
    for leaf, hashes in _parents_by_leaf(conn):
        batch.append({"leaf": leaf, "hashes": hashes})
        if len(batch) >= _BATCH:
            conn.execute(update, batch)
            batch = []
    if batch:
        conn.execute(update, batch)
    op.drop_table("ledger_nodes")
    op.drop_table("ledger_leaves")
    op.rename_table("ledger_leaves_v2", "ledger_leaves")


def downgrade() -> None:
    conn = op.get_bind()
    nodes = op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    leaves = sa.table("ledger_leaves", sa.column("idx"), sa.column("parents"))
    rows = conn.execute(
        sa.select(leaves.c.idx, leaves.c.parents).where(sa.func.length(leaves.c.parents) > 0)
    )
    batch: list[dict[str, object]] = []
    for leaf, parents in rows:
        for level in range(1, len(parents) // _HASH + 1):
            start = (level - 1) * _HASH
            batch.append(
                {
                    "level": level,
                    "idx": ((leaf + 1) >> level) - 1,
                    "hash": bytes(parents[start : start + _HASH]),
                }
            )
    for first in range(0, len(batch), _BATCH):
        conn.execute(nodes.insert(), batch[first : first + _BATCH])
    with op.batch_alter_table("ledger_leaves") as table:
        table.drop_column("parents")
