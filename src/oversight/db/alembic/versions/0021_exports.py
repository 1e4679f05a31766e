"""Exports (issue 22, item 6): the history of evidence packages written.

One row per package: its distinct name, when, the custodian and the witness present,
the grant, request, cameras and range, the destination, the SHA-256 of its
``manifest.json`` and (for a zip) of the zip, the ``export`` leaf under which the
footage was handed over, and the ``export.done`` leaf that records all of this in the
ledger (``oversight verify`` checks each row against that leaf).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("custodian", sa.String(64), nullable=False),
        sa.Column("witness", sa.String(64), nullable=False),
        sa.Column("grant_id", sa.Integer, sa.ForeignKey("access_grants.id"), nullable=False),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("cameras", sa.JSON, nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("form", sa.String(16), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("zip_sha256", sa.String(64)),
        sa.Column("zip_bytes", sa.BigInteger),
        sa.Column("export_leaf", sa.BigInteger, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False, unique=True),
    )
    op.create_index("ix_exports_grant", "exports", ["grant_id"])


def downgrade() -> None:
    op.drop_index("ix_exports_grant", "exports")
    op.drop_table("exports")
