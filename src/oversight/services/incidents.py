"""Incident reports (xj-2014 Art. 14(4)): suspicious public-security information
reported to the police, with the cameras and time range it concerns.

:func:`report_incident` checks everything first (a refusal writes nothing), then
records the report and its ``operations`` leaf in one transaction, then marks the
covered footage important through ``services.retention.mark_important`` (the 2-year
class of Art. 14(5); each mark is its own ``retention`` leaf) and keeps the mark ids
with the report.

:func:`render_report` is the printable document for the police. It lists the footage
by reference only (camera, range, segment SHA-256 and ledger leaf) and says how to
obtain the evidence package: through an access request and grant, executed at the
enforcement point (``services/footage.py``) like any other access. Nothing here reads
footage bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import retention as retention_domain
from oversight.domain.people import Person
from oversight.domain.text import check_text
from oversight.errors import InvalidInput, NotFound
from oversight.ledger import leaves
from oversight.rules.schema import IncidentReportRule
from oversight.services import authz, retention, windows
from oversight.services.recording import utc
from oversight.services.reports import _env

CATEGORIES: tuple[str, ...] = (
    "suspicious_information",
    "obstruction",
    "tamper",
    "damage",
    "hidden_device",
    "other",
)
MAX_CAMERAS = 64


@dataclass(frozen=True)
class IncidentRec:
    id: int
    category: str
    description: str
    cameras: tuple[str, ...]
    start: datetime
    end: datetime
    reported_by: str
    created_at: datetime
    leaf_index: int
    marks: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "description": self.description,
            "cameras": list(self.cameras),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "reported_by": self.reported_by,
            "created_at": self.created_at.isoformat(),
            "leaf_index": self.leaf_index,
            "marks": list(self.marks),
        }


@dataclass(frozen=True)
class FootageRef:
    camera: str
    seq: int
    start: datetime
    end: datetime
    size: int
    sha256: str
    leaf_index: int


def _rec(row: m.Incident) -> IncidentRec:
    return IncidentRec(
        row.id,
        row.category,
        row.description,
        tuple(row.cameras),
        utc(row.start_at),
        utc(row.end_at),
        row.reported_by,
        utc(row.created_at),
        row.leaf_index,
        tuple(row.marks or ()),
    )


def _cameras(values: Sequence[str]) -> list[str]:
    cams = sorted({c.strip() for c in values if c.strip()})
    if not cams:
        raise InvalidInput("name at least one camera (--cameras)")
    if len(cams) > MAX_CAMERAS:
        raise InvalidInput(f"at most {MAX_CAMERAS} cameras per report")
    return cams


def _article(system: System, at: datetime) -> str:
    rules = system.packs.rules(IncidentReportRule, system.packs.local_date(at))
    return rules[0][1].cite if rules else "Art. 14(4)"


def report_incident(
    system: System,
    actor: Person,
    *,
    cameras: Sequence[str],
    start: datetime,
    end: datetime,
    description: str,
    category: str = "suspicious_information",
) -> IncidentRec:
    """Record a report (operator or admin) and mark its footage important."""
    cams = _cameras(cameras)
    text = check_text(description, "--description")
    if category not in CATEGORIES:
        raise InvalidInput(f"unknown incident category {category!r} (use {'|'.join(CATEGORIES)})")
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("times must carry a time zone (e.g. Z or +08:00)")
    if end <= start:
        raise InvalidInput(f"the range ends ({end.isoformat()}) before it starts")
    now = system.clock.now()
    if end > now:
        raise InvalidInput(f"the range ends in the future ({end.isoformat()})")
    with system.sessions.begin() as s:
        current = authz.on_cameras(s, actor, "incidents.report", cams, kind="incident")
        row = m.Incident(
            category=category,
            description=text,
            cameras=cams,
            start_at=start,
            end_at=end,
            reported_by=current.id,
            created_at=now,
            leaf_index=-1,
            marks=[],
        )
        s.add(row)
        s.flush()
        row.leaf_index = system.ledger.append(
            s,
            [
                leaves.operations(
                    at=now,
                    actor=current.id,
                    action="incident.report",
                    subject=f"incident:{row.id}",
                    details={
                        "category": category,
                        "cameras": cams,
                        "start": leaves.instant(start),
                        "end": leaves.instant(end),
                        "description": text,
                        "article": _article(system, now),
                    },
                )
            ],
        )[0]
        incident_id = row.id
    # Important material (Art. 14(5)): kept at least 2 years. Each mark is its own
    # transaction and ``retention`` leaf, after the report is on record.
    reason = f"incident report {incident_id} ({category}): {_article(system, now)}"
    # The pack requires the marks of every report, so reporting allows them.
    marks = [
        retention.mark_important(
            system, current, cam, start, end, reason, because="incidents.report"
        ).id
        for cam in cams
    ]
    with system.sessions.begin() as s:
        stored = s.get(m.Incident, incident_id)
        assert stored is not None
        stored.marks = marks
        return _rec(stored)


def get_incident(system: System, actor: Person, incident_id: int) -> IncidentRec:
    with system.reads() as s:
        row = s.get(m.Incident, incident_id)
        if row is None:
            raise NotFound(f"incident {incident_id} does not exist")
        authz.on_cameras(s, actor, "incidents.read", row.cameras, kind="incident", id=row.id)
        return _rec(row)


def list_incidents(
    system: System, actor: Person, *, camera: str | None = None
) -> list[IncidentRec]:
    """Newest first; a scoped person sees reports about their cameras only."""
    with system.reads() as s:
        visible = authz.visible_cameras(s, actor, "incidents.read")
        rows = [_rec(r) for r in s.scalars(select(m.Incident).order_by(m.Incident.id.desc()))]
    return [
        r
        for r in rows
        if (camera is None or camera in r.cameras)
        and (visible is None or set(r.cameras) <= visible)
    ]


def footage_refs(system: System, incident: IncidentRec) -> list[FootageRef]:
    """Sealed segments of the incident's cameras overlapping its range: metadata from
    the index (each has its ``segment_sealed`` leaf), never the bytes."""
    with system.reads() as s:
        rows = s.scalars(
            select(m.Segment)
            .where(
                m.Segment.camera_id.in_(incident.cameras),
                *windows.overlapping(s, incident.start, incident.end, incident.cameras),
                m.Segment.deleted_at.is_(None),
            )
            .order_by(m.Segment.camera_id, m.Segment.seq)
        ).all()
        return [
            FootageRef(
                r.camera_id,
                r.seq,
                utc(r.start_at),
                utc(r.end_at),
                r.size_bytes,
                r.sha256,
                r.leaf_index,
            )
            for r in rows
        ]


def render_report(system: System, actor: Person, incident_id: int) -> str:
    """The printable report for the police (HTML, print-ready)."""
    incident = get_incident(system, actor, incident_id)
    day = system.packs.local_date(incident.created_at)
    duties = [
        (pack, rule)
        for pack, rule in system.packs.rules(IncidentReportRule, day)
        if isinstance(rule, IncidentReportRule)
    ]
    floor = retention_domain.floor_for(system.packs, retention_domain.IMPORTANT, incident.end)
    refs = footage_refs(system, incident)
    with system.reads() as s:
        checkpoint = system.ledger.latest_checkpoint(s)
        reporter = s.get(m.User, incident.reported_by)
    return _env.get_template("incident_report.html").render(
        incident=incident,
        duties=duties,
        floor=floor,
        refs=refs,
        checkpoint=checkpoint,
        reporter_name=reporter.name if reporter else incident.reported_by,
        tz=system.packs.timezone,
        packs=system.packs.ids,
        generated=system.packs.local_date(system.clock.now()),
        iso=lambda moment: moment.astimezone(system.packs.timezone).isoformat(),
        utc_iso=leaves.instant,
    )
