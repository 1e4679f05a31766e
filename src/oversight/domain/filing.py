"""Filing (备案) obligations: which cameras must be filed, by when, and their status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from oversight.domain.model import RegistryState
from oversight.rules.layering import Deadline, PackSet

Status = Literal["filed", "filed_late", "due", "overdue"]


@dataclass(frozen=True)
class FilingObligation:
    camera_id: str
    site_id: str
    kind: str
    event_date: date
    deadline: Deadline
    also: tuple[Deadline, ...]
    status: Status
    filed_on: date | None


def filing_obligations(state: RegistryState, packs: PackSet, at: date) -> list[FilingObligation]:
    """Every commissioning and removal filing owed on or before ``at``, earliest due first."""
    out: list[FilingObligation] = []
    for cam in state.cameras.values():
        events = [("commissioning", cam.commissioned)]
        if cam.removed is not None:
            events.append(("removal", cam.removed))
        for kind, when in events:
            if when > at:
                continue
            category = state.sites[cam.site_id].category
            deadlines = packs.filing_deadlines(
                kind, when, at, removed=cam.removed, category=category
            )
            if not deadlines:
                continue
            record = state.filing(cam.id, kind)
            filed_on = record.filed_on if record and record.filed_on <= at else None
            first = deadlines[0]
            status: Status
            if filed_on is not None:
                status = "filed" if filed_on <= first.due else "filed_late"
            else:
                status = "due" if at <= first.due else "overdue"
            out.append(
                FilingObligation(
                    cam.id, cam.site_id, kind, when, first, tuple(deadlines[1:]), status, filed_on
                )
            )
    return sorted(out, key=lambda o: (o.deadline.due, o.camera_id, o.kind))
