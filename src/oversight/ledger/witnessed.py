"""The cosignatures witnesses returned, stored with the checkpoints they sign (issue 20).

A checkpoint "with its cosignatures" is the stored signed note followed by the stored
cosignature lines (C2SP tlog-cosignature: they are ordinary note signature lines), so
any signed-note verifier reads it; evidence packages carry it that way.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from oversight.db import models as m
from oversight.ledger.log import StoredCheckpoint


def cosignature_lines(session: Session, size: int) -> list[str]:
    """The stored cosignature lines on the checkpoint of ``size`` leaves, by witness."""
    rows = session.scalars(
        select(m.WitnessCosignature)
        .where(m.WitnessCosignature.size == size)
        .order_by(m.WitnessCosignature.witness)
    )
    return [row.line for row in rows]


def with_cosignatures(session: Session, checkpoint: StoredCheckpoint) -> str:
    """The checkpoint note with every stored cosignature appended."""
    lines = [
        line for line in cosignature_lines(session, checkpoint.size) if line not in checkpoint.note
    ]
    return checkpoint.note + "".join(lines)
