"""The timeline's data for one camera and window (issue 22, item 2), and its thumbnails.

:func:`bands` adds to :func:`coverage.coverage` what the coverage of sealed footage
cannot know by itself:

- the **ongoing gap**: a gap row is written only when the recorder is back, so a camera
  that is not recording now draws nothing until it recovers. While its status is not
  ``recording``, the span from its last sealed footage (or, with none, from when that
  status began) up to now is a gap, marked ``ongoing``;
- **alarm** periods (open ones up to now).

Bookmarks are not drawn: the model has none (no table, no leaf kind).

:func:`thumbnail` is footage: it goes through the enforcement point
(``footage.release``, kind ``view``, action ``view.thumbnail``), whose leaf is committed
before the frame is made, and whose refusals are ``view.thumbnail.refused`` leaves. Of
the segment only what the enforcement point cut for the use is fed to ffmpeg.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import NoReturn

from sqlalchemy import func, or_, select

from oversight.bootstrap import System
from oversight.db import models as m
from oversight.domain import access as rules
from oversight.domain import policy
from oversight.domain.people import PermissionDenied, Person
from oversight.errors import InvalidInput, NotFound, RuleViolation
from oversight.media import ffmpeg
from oversight.services import access as svc
from oversight.services import authz, coverage, footage, recording
from oversight.services.coverage import Span, merge
from oversight.services.recording import utc

KINDS = ("recorded", "gap", "important", "held", "alarm")
THUMBNAIL_ACTION = "view.thumbnail"
THUMBNAIL_REACH = timedelta(seconds=5)  # the use around the instant: whole fragments fit
THUMBNAIL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Bands:
    """What the timeline of one camera draws over [start, end) (end at most now)."""

    camera: str
    start: datetime
    end: datetime
    now: datetime
    state: str
    recorded: list[Span]
    gaps: list[Span]  # recorded gaps and the ongoing one, merged
    important: list[Span]
    held: list[Span]
    alarms: list[Span]
    ongoing: Span | None = None  # the part of ``gaps`` that is still going on
    segments: int = 0
    fraction: float = 0.0

    def of(self, kind: str) -> list[Span]:
        return {
            "recorded": self.recorded,
            "gap": self.gaps,
            "important": self.important,
            "held": self.held,
            "alarm": self.alarms,
        }[kind]


def _clip(start: datetime, end: datetime, lo: datetime, hi: datetime) -> Span | None:
    s, e = max(start, lo), min(end, hi)
    return Span(s, e) if e > s else None


def bands(system: System, person: Person, camera: str, start: datetime, end: datetime) -> Bands:
    """The bands of ``camera`` over [start, end), for ``person`` (``recordings.read`` in
    the camera's scope)."""
    now = system.clock.now()
    end = min(end, now)
    if end <= start:
        raise InvalidInput("the timeline's window must end after it starts, and not after now")
    with system.reads() as s:
        authz.on_cameras(s, person, "recordings.read", [camera])
        last = s.scalar(
            select(func.max(m.Segment.end_at)).where(
                m.Segment.camera_id == camera, m.Segment.deleted_at.is_(None)
            )
        )
        alarm_rows = s.execute(
            select(m.Alarm.started_at, m.Alarm.ended_at).where(
                m.Alarm.camera_id == camera,
                m.Alarm.started_at < end,
                or_(m.Alarm.ended_at.is_(None), m.Alarm.ended_at > start),
            )
        ).all()
    cov = coverage.coverage(system, camera, start, end)
    status = recording.get_status(system, camera)
    state = status.state if status is not None else "never recorded"
    ongoing = None
    if status is not None and state != "recording":
        since = utc(last) if last is not None else status.since
        if since is not None:
            ongoing = _clip(since, now, start, end)
    gaps = merge([(g.start, g.end) for g in cov.gaps + ([ongoing] if ongoing else [])], 0)
    alarms = [
        span
        for a, b in alarm_rows
        if (span := _clip(utc(a), utc(b) if b is not None else now, start, end)) is not None
    ]
    return Bands(
        camera,
        start,
        end,
        now,
        state,
        cov.recorded,
        gaps,
        cov.important,
        cov.held,
        merge([(a.start, a.end) for a in alarms], 0),
        ongoing,
        cov.segments,
        cov.fraction,
    )


# ---- grants the person may play ----------------------------------------------------


@dataclass(frozen=True)
class Playable:
    grant: int
    cameras: tuple[str, ...]
    start: datetime
    end: datetime


def playable_grants(system: System, person: Person) -> list[Playable]:
    """The grants ``person`` could view under now (valid, not revoked, of a kind that
    includes viewing), among the requests they may read; empty if their role never
    views footage. The enforcement point still checks every use (and the witness)."""
    if not policy.may_take(person, "footage.view"):
        return []
    now = system.clock.now()
    out = []
    for rec in svc.list_requests(system, person, status="approved"):
        grant = rec.grant
        if grant is None:
            continue
        try:
            rules.check_use(
                grant.to_domain(), "view", grant.cameras[0], grant.start, grant.end, now
            )
        except RuleViolation:
            continue
        out.append(Playable(grant.id, grant.cameras, grant.start, grant.end))
    return out


def covering(
    grants: list[Playable], camera: str, start: datetime, end: datetime
) -> Playable | None:
    """The first of ``grants`` that covers ``camera`` over [start, end]."""
    for grant in grants:
        if camera in grant.cameras and grant.start <= start and end <= grant.end:
            return grant
    return None


# ---- thumbnails, through the enforcement point ---------------------------------------


def refuse_thumbnail(
    system: System, person: Person, grant_id: int, camera: str, exc: PermissionDenied
) -> NoReturn:
    """A thumbnail refused before the enforcement point was reached (no open two-person
    execution in this session): a ``view.thumbnail.refused`` leaf, then the refusal."""
    svc.record_refusal(
        system,
        exc,
        actors=[person.id],
        action=THUMBNAIL_ACTION,
        target=f"grant:{grant_id}",
        grant=str(grant_id),
        details={"kind": "view", "camera": camera},
    )
    raise exc


def thumbnail(
    system: System,
    *,
    grant_id: int,
    camera: str,
    at: datetime,
    present: list[Person],
    width: int = ffmpeg.THUMBNAIL_WIDTH,
) -> bytes:
    """A JPEG of ``camera`` at ``at``: released (checked, logged) first, then decoded
    from only the bytes the enforcement point cut for the use."""
    try:
        grant, _ = svc.get_grant(system, present[0], grant_id)
    except PermissionDenied as exc:
        refuse_thumbnail(system, present[0], grant_id, camera, exc)
    lo, hi = max(at - THUMBNAIL_REACH, grant.start), min(at + THUMBNAIL_REACH, grant.end)
    if not grant.start <= at < grant.end or hi <= lo:
        # Outside the grant: the enforcement point refuses it (and logs the refusal).
        lo, hi = at, at + timedelta(seconds=1)
    with footage.release(
        system,
        grant_id=grant_id,
        kind="view",
        action=THUMBNAIL_ACTION,
        present=present,
        uses=[footage.Use(camera, lo, hi)],
    ) as handover:
        segment = min(
            handover.segments,
            key=lambda seg: (
                0 if seg.start <= at < seg.end else abs((seg.start - at).total_seconds())
            ),
        )
        if segment.handle is None or segment.cut is None or segment.cut.media is None:
            raise NotFound(f"no frame of camera {camera} near {at.isoformat()} can be shown")
        cut, f = segment.cut, segment.handle
        assert cut.media is not None
        f.seek(cut.init[0])
        data = f.read(cut.init[1] - cut.init[0])
        f.seek(cut.media[0])
        data += f.read(cut.media[1] - cut.media[0])
        into = Fraction((at - segment.start) // timedelta(microseconds=1), 1_000_000) - cut.start
        offset = float(
            min(max(into, Fraction(0)), max(cut.end - cut.start - Fraction(1, 10), Fraction(0)))
        )
    argv = ffmpeg.build_thumbnail_command(offset, width=width)
    return ffmpeg.run_thumbnail(argv, data, timeout=THUMBNAIL_TIMEOUT_S)
