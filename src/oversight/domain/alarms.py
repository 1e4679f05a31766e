"""Camera alarms: kinds, validation and the record, pure (no I/O, no clock).

An alarm is open from its start until it is cleared; while open, raising it again
only updates ``last_seen`` (deduplication). Acknowledging it records that a person
took note, with a note; it does not close it. How long an alarm may stay open is the
rule packs' (``alarm_open_limit`` rules): past that it is a compliance finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from oversight.errors import InvalidInput

KINDS: tuple[str, ...] = (
    "offline",
    "covered",
    "defocused",
    "moved",
    "too_dark",
    "overexposed",
    "bitrate_collapse",
    "framerate_collapse",
    "integrity",  # a stored segment differs from its sealed SHA-256 (services/footage.py)
    "clock_jump",  # the recorder host's clock jumped: footage times around it are suspect
)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(f"unknown alarm kind {kind!r} (use {'|'.join(KINDS)})")
    return kind


def check_instant(moment: datetime, what: str = "the time") -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(f"{what} must carry a time zone")
    return moment


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True)
class Alarm:
    id: int
    camera: str
    kind: str
    detail: str
    started_at: datetime
    last_seen_at: datetime
    seen: int
    ended_at: datetime | None = None
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_note: str | None = None
    leaf_index: int = -1

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    def open_at(self, moment: datetime) -> bool:
        return self.started_at <= moment and (self.ended_at is None or self.ended_at > moment)

    def open_for(self, moment: datetime) -> timedelta:
        """How long it has been open at ``moment`` (up to its end if it ended)."""
        end = moment if self.ended_at is None else min(moment, self.ended_at)
        return max(timedelta(0), end - self.started_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "camera": self.camera,
            "kind": self.kind,
            "detail": self.detail,
            "state": "open" if self.is_open else "closed",
            "started_at": _iso(self.started_at),
            "last_seen_at": _iso(self.last_seen_at),
            "seen": self.seen,
            "ended_at": _iso(self.ended_at),
            "acknowledged": None
            if self.acked_by is None
            else {"by": self.acked_by, "at": _iso(self.acked_at), "note": self.ack_note or ""},
            "leaf_index": self.leaf_index,
        }
