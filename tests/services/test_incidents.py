"""Incident reports (Art. 14(4)) on SQLite and PostgreSQL, over real sealed footage: the
covered segments are marked important and the retention plan keeps them 2 years, the
report is an ``operations`` leaf, the printable report cites the article and lists the
footage by hash only, and refused input writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from oversight import bootstrap
from oversight.clock import FixedClock
from oversight.domain.people import PermissionDenied, Person
from oversight.errors import InvalidInput, NotFound
from oversight.services import incidents, retention
from oversight.services.sealing import SealedSegment, seal_file
from tests.actors import admin
from tests.conftest import Env
from tests.evidence.helpers import SEGMENT_SECONDS, make_segments
from tests.recorder.helpers import needs_ffmpeg
from tests.services.test_alarms import NOW, add_person, add_site_and_cameras, build
from tests.services.test_alarms import clock as clock
from tests.services.test_alarms import fast_hashes as fast_hashes
from tests.services.test_people import leaves_of

S0 = NOW - timedelta(hours=1)
SEG = timedelta(seconds=SEGMENT_SECONDS)


@pytest.fixture
def sys_(initialised: Env, clock: FixedClock) -> Iterator[bootstrap.System]:
    built = build(clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def cast(sys_: bootstrap.System) -> dict[str, Person]:
    boss = add_person(sys_, None, "boss")
    add_site_and_cameras(sys_, "cam1", "cam2", commissioned=NOW.date() - timedelta(days=10))
    return {
        "boss": boss,
        "op": add_person(sys_, boss, "op", "operator"),
        "cust": add_person(sys_, boss, "cust", "custodian"),
    }


def seal(system: bootstrap.System, tmp: Path, count: int = 3) -> list[SealedSegment]:
    """``count`` consecutive real H.264 segments of cam1 from S0, sealed."""
    return [
        seal_file(system, camera="cam1", path=path, start=S0 + i * SEG, end=S0 + (i + 1) * SEG)
        for i, path in enumerate(make_segments(tmp / "spool", count))
    ]


@needs_ffmpeg
def test_report_marks_footage_important_for_two_years(
    sys_: bootstrap.System, cast: dict[str, Person], tmp_path: Path
) -> None:
    sealed = seal(sys_, tmp_path)
    start, end = S0 + timedelta(seconds=2), S0 + timedelta(seconds=8)  # segments 1 and 2
    rec = incidents.report_incident(
        sys_,
        cast["op"],
        cameras=["cam1", "cam2"],
        start=start,
        end=end,
        description="Unattended bag left by the east gate for 20 minutes <b>",
    )
    assert rec.cameras == ("cam1", "cam2") and rec.reported_by == "op"
    assert rec.category == "suspicious_information" and len(rec.marks) == 2

    [leaf] = [x for x in leaves_of(sys_, "operations") if x["action"] == "incident.report"]
    assert leaf["subject"] == f"incident:{rec.id}" and leaf["actor"] == "op"
    assert leaf["details"]["article"] == "Art. 14(4)"
    assert leaf["details"]["cameras"] == ["cam1", "cam2"]
    marks = [x for x in leaves_of(sys_, "retention") if x["action"] == "mark"]
    assert {x["subject"] for x in marks} == {"camera:cam1", "camera:cam2"}
    assert all(f"incident report {rec.id}" in x["details"]["reason"] for x in marks)

    # The plan keeps the covered segments at least 2 years, the other one 30 days.
    plan = retention.make_plan(sys_)
    by_id = {d.segment.id: d for d in plan.decisions}
    covered, other = sealed[:2], sealed[2]
    for seg in covered:
        decision = by_id[seg.id]
        assert decision.retention_class == "important" and decision.keep_days >= 730
        assert rec.marks[0] in decision.marked_by
    assert by_id[other.id].keep_days == 30
    later = retention.make_plan(sys_, NOW + timedelta(days=400))
    expired = {d.segment.id for d in later.expired}
    assert other.id in expired and not expired & {s.id for s in covered}

    html = incidents.render_report(sys_, admin(sys_), rec.id)
    assert "Art. 14(4)" in html and "发现涉及公共安全的可疑信息，及时向公安机关报告" in html
    assert "Unattended bag left by the east gate for 20 minutes &lt;b&gt;" in html
    for seg in covered:
        assert seg.sha256 in html
    assert other.sha256 not in html
    assert "731 days (xj-2014 Art. 14(5))" in html
    assert "oversight access request --kind copy --cameras cam1,cam2" in html
    assert "oversight export --grant" in html
    assert [r.id for r in incidents.list_incidents(sys_, admin(sys_), camera="cam2")] == [rec.id]
    assert incidents.list_incidents(sys_, admin(sys_), camera="cam9") == []
    assert incidents.get_incident(sys_, admin(sys_), rec.id).to_json()["marks"] == list(rec.marks)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"cameras": ["nope"]}, NotFound, "camera 'nope'"),
        ({"cameras": [" "]}, InvalidInput, "at least one camera"),
        ({"start": S0, "end": S0}, InvalidInput, "before it starts"),
        ({"end": NOW + timedelta(minutes=1)}, InvalidInput, "future"),
        ({"start": S0.replace(tzinfo=None)}, InvalidInput, "time zone"),
        ({"description": "  "}, InvalidInput, "--description"),
        ({"category": "gossip"}, InvalidInput, "category"),
    ],
)
def test_refused_report_writes_nothing(
    initialised: Env,
    sys_: bootstrap.System,
    cast: dict[str, Person],
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    args: dict[str, Any] = {
        "cameras": ["cam1"],
        "start": S0,
        "end": S0 + SEG,
        "description": "suspicious",
    }
    before = initialised.counts()
    with pytest.raises(error, match=message):
        incidents.report_incident(sys_, cast["op"], **{**args, **kwargs})
    with pytest.raises(PermissionDenied):
        incidents.report_incident(sys_, cast["cust"], **args)  # custodians do not report
    assert initialised.counts() == before
    with pytest.raises(NotFound):
        incidents.render_report(sys_, admin(sys_), 1)
