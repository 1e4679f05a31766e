"""Gaps and camera status as the API shows them: a plain reason for everyone, ffmpeg's
and the recorder's own words only for those the policy lets read them (issue 22,
item 9; ``recordings.diagnostics``).

The recorder stores what ffmpeg said (credential-scrubbed) because an operator
diagnosing a camera needs it; everyone else gets the key of
:data:`oversight.domain.plain_reasons.REASONS`. The raw text is decided per camera
(the person's site scope applies), from the person as stored now: fail closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oversight.bootstrap import System
from oversight.domain import policy
from oversight.domain.people import Person
from oversight.domain.plain_reasons import plain_reason
from oversight.services import authz, recording

ACTION = "recordings.diagnostics"


@dataclass(frozen=True)
class GapReport:
    id: int
    camera: str
    start: datetime
    end: datetime
    reason: str  # a key of REASONS
    reason_raw: str | None  # None unless the reader may see it
    leaf_index: int
    copy: int


@dataclass(frozen=True)
class StatusReport:
    camera: str
    state: str
    since: datetime | None
    last_segment_at: datetime | None
    last_error: str | None  # a key of REASONS, None for no error
    last_error_raw: str | None  # None unless the reader may see it
    updated_at: datetime | None


class _Raw:
    """Which cameras' raw text ``actor`` may read: none, all, or those at their sites."""

    def __init__(self, system: System, actor: Person) -> None:
        with system.reads() as s:
            person = authz.current(s, actor)
            self.all = False
            self.cameras: frozenset[str] = frozenset()
            if policy.may_take(person, ACTION):
                seen = authz.visible_cameras(s, person, ACTION)
                self.all = seen is None
                self.cameras = seen or frozenset()

    def of(self, camera: str, text: str | None) -> str | None:
        return text if (self.all or camera in self.cameras) else None


def gaps(system: System, actor: Person, camera: str | None = None) -> list[GapReport]:
    """:func:`recording.list_gaps` with each reason made plain (``recordings.read``)."""
    found = recording.list_gaps(system, actor, camera)
    raw = _Raw(system, actor)
    return [
        GapReport(
            g.id,
            g.camera,
            g.start,
            g.end,
            plain_reason(g.reason) or "other",
            raw.of(g.camera, g.reason),
            g.leaf_index,
            g.copy,
        )
        for g in found
    ]


def statuses(system: System, actor: Person) -> list[StatusReport]:
    """:func:`recording.list_status` with each last error made plain."""
    found = recording.list_status(system, actor)
    raw = _Raw(system, actor)
    return [
        StatusReport(
            st.camera,
            st.state,
            st.since,
            st.last_segment_at,
            plain_reason(st.last_error),
            raw.of(st.camera, st.last_error),
            st.updated_at,
        )
        for st in found
    ]
