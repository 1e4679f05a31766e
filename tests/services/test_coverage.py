"""Coverage: the merge rule, and the per-process segment index that serves it, checked
against the rule applied to the rows themselves, as segments are sealed and purged."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from oversight import bootstrap
from oversight.db import models as m
from oversight.services import coverage as cov
from oversight.services import purge
from oversight.services.coverage import Span, merge
from oversight.services.recording import utc
from oversight.services.sealing import seal_file
from tests.actors import HOST
from tests.recorder.helpers import add_camera

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_neighbours_within_the_join_distance_become_one_span() -> None:
    spans = [(at(0), at(60)), (at(61.5), at(120)), (at(121.6), at(180))]
    assert merge(spans) == [Span(at(0), at(120)), Span(at(121.6), at(180))]


def test_merge_sorts_and_absorbs_overlapping_and_contained_segments() -> None:
    spans = [(at(100), at(160)), (at(0), at(60)), (at(10), at(20)), (at(50), at(70))]
    assert merge(spans) == [Span(at(0), at(70)), Span(at(100), at(160))]
    assert merge([(at(0), at(10)), (at(10), at(20))], join_s=0) == [Span(at(0), at(20))]
    assert merge([]) == []


def test_the_integer_merge_is_the_same_rule() -> None:
    rng = random.Random(7)
    for _ in range(200):
        pairs = []
        for _ in range(rng.randint(0, 30)):
            start = rng.randint(0, 600_000_000)
            pairs.append((start, start + rng.randint(1, 90_000_000)))
        reference = merge([(T0 + timedelta(microseconds=a), T0 + timedelta(microseconds=b))
                           for a, b in pairs])  # fmt: skip
        got = cov._merge_us(pairs, cov.JOIN_US)
        assert [(T0 + timedelta(microseconds=a), T0 + timedelta(microseconds=b))
                for a, b in got] == [(s.start, s.end) for s in reference]  # fmt: skip


def reference(system: bootstrap.System, start: datetime, end: datetime) -> tuple[list[Span], int]:
    """The rule applied to the live rows directly."""
    with system.sessions() as s:
        rows = s.execute(
            select(m.Segment.start_at, m.Segment.end_at).where(
                m.Segment.camera_id == "cam1",
                m.Segment.deleted_at.is_(None),
                m.Segment.end_at > start,
                m.Segment.start_at < end,
            )
        ).all()
    clipped = [(max(utc(a), start), min(utc(b), end)) for a, b in rows]
    return merge(clipped), len(rows)


def seal(system: bootstrap.System, tmp: Path, starts: list[float], length: float = 60) -> None:
    for begin in starts:
        path = tmp / f"seg-{begin}.mp4"
        path.write_bytes(f"segment at {begin}".encode())
        seal_file(system, camera="cam1", path=path, start=at(begin), end=at(begin + length))


def check(system: bootstrap.System) -> None:
    ranges = [(at(-100), at(2000)), (at(30), at(95)), (at(200), at(260)), (at(500), at(501))]
    for start, end in ranges:
        got = cov.coverage(system, "cam1", start, end)
        spans, count = reference(system, start, end)
        assert (got.recorded, got.segments) == (spans, count), (start, end)


def test_the_index_follows_seals_and_purges(system: bootstrap.System, tmp_path: Path) -> None:
    add_camera(system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    seal(system, tmp_path, [0, 60, 121, 300, 360.5])
    check(system)
    seal(system, tmp_path, [180, 240, 600])  # out of order, and bridging a gap
    check(system)
    assert cov.coverage(system, "cam1", at(0), at(420)).recorded == [Span(at(0), at(420))]
    # T0 is months ago: the purge deletes it all, each deletion a ledger leaf.
    assert purge.run(system, HOST).segments == 8
    check(system)
    assert cov.coverage(system, "cam1", at(0), at(1000)).recorded == []
    seal(system, tmp_path, [900])
    check(system)


def test_a_seam_of_the_other_copy_at_the_edge_of_a_hole_is_not_missing_footage(
    system: bootstrap.System, tmp_path: Path
) -> None:
    """Found by CI (issue 21, item 6): copy 0 of a redundant camera has a hole from 20 s;
    copy 1's segments meet 4 ms after it starts, the earlier one ending just before it.
    The jitter between copy 1's segments is joined there as anywhere, so nothing of the
    hole is missing (the earlier segment used to be left out of the lookup, as it ends
    before the hole, and a 4 ms gap was reported)."""
    from oversight.services import pool, recording, registry
    from tests.actors import HOST

    add_camera(system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    registry.set_redundant(system, HOST, "cam1", True)
    with system.sessions.begin() as s:  # the two leases a pool would hold (no pool here)
        s.merge(m.CameraLease(camera_id="cam1", copy=0, node="a", epoch=1))
        s.merge(m.CameraLease(camera_id="cam1", copy=1, node="b", epoch=1))
    for copy, a, b in [(0, 0, 20), (1, 10, 19.999), (1, 20.004, 30), (0, 30, 40)]:
        path = tmp_path / f"c{copy}-{a}.mp4"
        path.write_bytes(f"copy {copy} at {a}".encode())
        fence = pool.Fence("ab"[copy], 1, copy)
        seal_file(system, camera="cam1", path=path, start=at(a), end=at(b), fence=fence)
    recording.record_gap(system, camera="cam1", start=at(20), end=at(30), reason="x", copy=0)
    assert cov.coverage(system, "cam1", at(0), at(40)).gaps == []
    # A real hole of copy 1 inside copy 0's is still missing footage.
    recording.record_gap(system, camera="cam1", start=at(45), end=at(50), reason="y", copy=0)
    assert cov.coverage(system, "cam1", at(0), at(60)).gaps == [Span(at(45), at(50))]
