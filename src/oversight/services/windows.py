"""Which segments overlap a window [start, end): one bounded index range, not a scan.

An overlap test (``end_at > start AND start_at < end``) has no index range of its own:
by start time it reads the camera's whole history before ``end``, by end time all of
it after ``start``. But no segment of a camera is longer than the longest one ever
sealed for it (``cameras.longest_segment_ms``, raised by every seal), so every segment
overlapping the window starts in [start - longest, end): one range on (camera, start),
whose size is the window's footage plus at most one segment length.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from oversight.db import models as m


def duration_ms(start: datetime, end: datetime) -> int:
    """Whole milliseconds of [start, end), rounded up so the bound is never short."""
    micros = (end - start) // timedelta(microseconds=1)
    return -(-micros // 1000)


def record_length(session: Session, camera: str, start: datetime, end: datetime) -> None:
    """Raise ``camera``'s longest segment to cover [start, end) (part of every seal)."""
    ms = duration_ms(start, end)
    session.execute(
        update(m.Camera)
        .where(m.Camera.id == camera, m.Camera.longest_segment_ms < ms)
        .values(longest_segment_ms=ms)
    )


def longest(session: Session, cameras: Sequence[str] | None = None) -> timedelta:
    """The longest segment of these cameras (all cameras when None)."""
    query = select(func.max(m.Camera.longest_segment_ms))
    if cameras is not None:
        query = query.where(m.Camera.id.in_(list(cameras)))
    return timedelta(milliseconds=int(session.scalar(query) or 0))


def overlapping(
    session: Session,
    start: datetime,
    end: datetime | None = None,
    cameras: Sequence[str] | None = None,
) -> list[Any]:
    """WHERE terms for segments of ``cameras`` (all when None) overlapping [start, end)
    (open-ended when ``end`` is None); the camera term is the caller's."""
    terms = [m.Segment.end_at > start]
    # A window from year 1 has no earlier bound (datetime ends there), nor needs one.
    with contextlib.suppress(OverflowError):
        terms.append(m.Segment.start_at >= start - longest(session, cameras))
    if end is not None:
        terms.append(m.Segment.start_at < end)
    return terms
