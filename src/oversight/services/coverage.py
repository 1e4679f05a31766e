"""Coverage of one camera over a time range: what is recorded, what is missing, what
is marked important or held. Feeds the console's timeline picture and the API.

Adjacent segments (less than ``JOIN_S`` apart) are merged into one recorded span, so
30 days of 60 s segments become a handful of spans, not 43,200 rectangles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.errors import InvalidInput, NotFound
from oversight.services.recording import utc

JOIN_S = 1.5
MAX_RANGE = timedelta(days=400)


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Coverage:
    camera: str
    start: datetime
    end: datetime
    recorded: list[Span]
    gaps: list[Span]
    important: list[Span]
    held: list[Span]
    segments: int

    @property
    def recorded_seconds(self) -> float:
        return sum((s.end - s.start).total_seconds() for s in self.recorded)

    @property
    def fraction(self) -> float:
        total = (self.end - self.start).total_seconds()
        return self.recorded_seconds / total if total > 0 else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "camera": self.camera,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "segments": self.segments,
            "recorded_seconds": round(self.recorded_seconds, 3),
            "fraction": round(self.fraction, 6),
            "recorded": [s.to_json() for s in self.recorded],
            "gaps": [s.to_json() for s in self.gaps],
            "important": [s.to_json() for s in self.important],
            "held": [s.to_json() for s in self.held],
        }


def _clip(start: datetime, end: datetime, lo: datetime, hi: datetime) -> Span | None:
    s, e = max(start, lo), min(end, hi)
    return Span(s, e) if e > s else None


def merge(spans: list[tuple[datetime, datetime]], join_s: float = JOIN_S) -> list[Span]:
    """Sorted, merged spans; neighbours closer than ``join_s`` seconds become one."""
    out: list[Span] = []
    join = timedelta(seconds=join_s)
    for start, end in sorted(spans):
        if out and start - out[-1].end <= join:
            if end > out[-1].end:
                out[-1] = Span(out[-1].start, end)
        else:
            out.append(Span(start, end))
    return out


def coverage(system: System, camera: str, start: datetime, end: datetime) -> Coverage:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("the time range needs a time zone")
    if end <= start:
        raise InvalidInput("the end of the range must be after its start")
    if end - start > MAX_RANGE:
        raise InvalidInput(f"the range may span at most {MAX_RANGE.days} days")
    with system.sessions() as s:
        if s.get(m.Camera, camera) is None:
            raise NotFound(f"camera {camera} does not exist")
        rows = s.execute(
            select(m.Segment.start_at, m.Segment.end_at).where(
                m.Segment.camera_id == camera,
                m.Segment.deleted_at.is_(None),
                m.Segment.end_at > start,
                m.Segment.start_at < end,
            )
        ).all()
        gaps = s.execute(
            select(m.Gap.start_at, m.Gap.end_at).where(
                m.Gap.camera_id == camera, m.Gap.end_at > start, m.Gap.start_at < end
            )
        ).all()
        marks = s.execute(
            select(m.RetentionMark.start_at, m.RetentionMark.end_at).where(
                m.RetentionMark.camera_id == camera,
                m.RetentionMark.end_at > start,
                m.RetentionMark.start_at < end,
            )
        ).all()
        holds = s.execute(
            select(m.RetentionHold.start_at, m.RetentionHold.end_at).where(
                m.RetentionHold.camera_id == camera,
                m.RetentionHold.released_at.is_(None),
                m.RetentionHold.end_at > start,
                m.RetentionHold.start_at < end,
            )
        ).all()

    def spans(pairs: list[tuple[datetime, datetime]], join_s: float) -> list[Span]:
        clipped = [_clip(utc(a), utc(b), start, end) for a, b in pairs]
        return merge([(c.start, c.end) for c in clipped if c is not None], join_s)

    return Coverage(
        camera,
        start,
        end,
        spans([tuple(r) for r in rows], JOIN_S),  # type: ignore[misc]
        spans([tuple(r) for r in gaps], 0),  # type: ignore[misc]
        spans([tuple(r) for r in marks], 0),  # type: ignore[misc]
        spans([tuple(r) for r in holds], 0),  # type: ignore[misc]
        len(rows),
    )
