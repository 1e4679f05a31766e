"""A still of granted footage at one instant, through the enforcement point.

A snapshot is footage: :func:`take` asks ``footage.release`` (kind ``view``, action
``view.snapshot``) for the one camera and the one instant, so the grant, the people
present, the camera and the instant are checked there, and the ``view.snapshot`` leaf
(who, camera, grant, instant, format) is committed before any byte is decoded. The
instant is bounded to the grant by that check (``domain.access.check_use``); a refusal
is a ``view.snapshot.refused`` leaf. Only then does ffmpeg decode the frame shown at
that instant from the descriptor that was hashed (``media/still.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from oversight.bootstrap import System
from oversight.domain.people import PermissionDenied, Person
from oversight.errors import InvalidInput, NotFound, RuleViolation
from oversight.media import still
from oversight.services import access as svc
from oversight.services import footage

ACTION = "view.snapshot"
# The instant as a use: one microsecond, so the segment showing it is the one in scope.
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Still:
    data: bytes
    media_type: str
    leaf_index: int
    camera: str
    at: datetime


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def take(
    system: System,
    present: Sequence[Person],
    *,
    grant_id: int,
    camera: str,
    at: datetime,
    fmt: str = "jpeg",
) -> Still:
    """The frame of ``camera`` shown at ``at``, as JPEG or PNG; ``present[0]`` acts and
    the others witness, as for playback."""
    media_type = still.media_type(fmt)  # bad input: refused before anything is read
    if at.tzinfo is None:
        raise InvalidInput("a snapshot's instant needs a time zone")
    at = at.astimezone(UTC)
    with footage.release(
        system,
        grant_id=grant_id,
        kind="view",
        action=ACTION,
        present=present,
        uses=[footage.Use(camera, at, at + _TICK)],
        details={"camera": camera, "instant": _stamp(at), "format": fmt},
    ) as handover:
        shown = [s for s in handover.segments if s.start <= at < s.end and s.handle is not None]
        if not shown:
            raise NotFound(f"no MP4 footage of camera {camera} shows {_stamp(at)}")
        segment = shown[0]
        offset = Fraction((at - segment.start) // _TICK, 1_000_000)
        assert segment.handle is not None
        data = still.grab(segment.handle, offset, fmt, timeout=system.settings.snapshot_timeout_s)
    return Still(data, media_type, handover.leaf_index, camera, at)


def refuse(
    system: System,
    person: Person,
    exc: RuleViolation | PermissionDenied,
    *,
    grant_id: int,
    camera: str,
    at: datetime | None,
) -> None:
    """Record a snapshot refused before the enforcement point was reached (no open
    execution with a witness, in the console) as its own leaf; then it is raised."""
    svc.record_refusal(
        system,
        exc,
        actors=[person.id],
        action=ACTION,
        target=camera or f"grant:{grant_id}",
        grant=str(grant_id),
        details={"kind": "view", "camera": camera, "instant": _stamp(at) if at else ""},
    )
