"""The register's leaves by time: reading the register of a period (who recorded,
viewed, copied or retrieved footage, Art. 14(3)) no longer decodes the whole ledger.

Backfilled from the leaves' own ``at`` (RFC 3339 UTC with microseconds, "Z"), in SQL.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The register's leaf types as of this revision (ledger/leaves.py REGISTER_TYPES).
_KINDS = "('segment_sealed', 'access')"
# "2026-05-01T12:00:00.000000Z" as each dialect stores a UTCDateTime: SQLite keeps naive
# UTC text "2026-05-01 12:00:00.000000", PostgreSQL a timestamptz.
_AT = {
    "sqlite": "replace(replace(json_extract(CAST(data AS TEXT), '$.at'), 'T', ' '), 'Z', '')",
    "postgresql": "CAST(convert_from(data, 'UTF8')::jsonb ->> 'at' AS TIMESTAMPTZ)",
}


def upgrade() -> None:
    op.create_table(
        "register_times",
        sa.Column(
            "idx",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    at = _AT[op.get_bind().dialect.name]
    op.execute(
        f"INSERT INTO register_times (idx, at) SELECT idx, {at} "  # noqa: S608  (fixed SQL)
        f"FROM ledger_leaves WHERE kind IN {_KINDS}"
    )
    op.create_index("ix_register_times_at", "register_times", ["at", "idx"])


def downgrade() -> None:
    op.drop_index("ix_register_times_at", table_name="register_times")
    op.drop_table("register_times")
