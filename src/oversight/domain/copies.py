"""Which recording of a camera to hand over when it has more than one (issue 21).

A redundant camera is recorded by two nodes at once (copies 0 and 1), and a node that
lost its lease during a partition keeps what it recorded as ``late`` footage. Playback,
HLS and export hand over one recording, not two interleaved: the first copy where it
has footage, the second where the first has a hole, late footage only where neither
has any. A segment of a lower rank is taken whole when it covers more than ``SEAM``
that the higher ranks leave uncovered, so at the edge of a hole up to one segment of
the fallback copy overlaps the first copy (footage shown twice rather than lost).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

T = TypeVar("T")
SEAM = timedelta(milliseconds=500)  # below this, a hole is the jitter between segments

PRIMARY, SECOND, LATE = 0, 1, 2


def rank(copy: int, late: bool) -> int:
    """PRIMARY (copy 0, sealed by the lease holder), SECOND (copy 1), or LATE."""
    if late:
        return LATE
    return PRIMARY if copy == 0 else SECOND


def _uncovered(
    start: datetime, end: datetime, covered: Sequence[tuple[datetime, datetime]]
) -> timedelta:
    """How much of [start, end) the sorted, disjoint ``covered`` spans leave out."""
    left = end - start
    for a, b in covered:
        if b <= start or a >= end:
            continue
        left -= min(b, end) - max(a, start)
    return left


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def one_recording(
    items: Sequence[T],
    span: Callable[[T], tuple[datetime, datetime]],
    rank_of: Callable[[T], int],
) -> list[T]:
    """The items to hand over, in their given order: every PRIMARY one, then each of a
    lower rank that fills more than ``SEAM`` of what the higher ranks leave uncovered."""
    if all(rank_of(item) == PRIMARY for item in items):
        return list(items)  # one recording only: the usual case, unchanged
    chosen: set[int] = set()
    covered: list[tuple[datetime, datetime]] = []
    for level in (PRIMARY, SECOND, LATE):
        taken = [
            i
            for i, item in enumerate(items)
            if rank_of(item) == level
            and (level == PRIMARY or _uncovered(*span(item), covered) > SEAM)
        ]
        chosen.update(taken)
        covered = _merge(covered + [span(items[i]) for i in taken])
    return [item for i, item in enumerate(items) if i in chosen]
