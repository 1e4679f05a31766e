"""The retention planner, table-driven: floors per class and pack, keep-for settings,
marks, holds, and the day before and after each deletion date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from oversight.domain.retention import (
    IMPORTANT,
    STANDARD,
    Decision,
    Hold,
    KeepFor,
    Mark,
    SegmentInfo,
    check_keep_for,
    plan,
)
from oversight.errors import InvalidInput, RuleViolation
from oversight.rules.layering import PackSet
from oversight.rules.loader import load_packs

XJ = PackSet(load_packs(["xj-2014"]))
CN = PackSet(load_packs(["cn-2025"]))
BOTH = PackSet(load_packs(["xj-2014", "cn-2025"]))

END = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)  # 12:00 in Urumqi/Beijing time
SEG = SegmentInfo.of(1, "cam1", END - timedelta(minutes=1), END, 1000)


def _one(
    packs: PackSet = XJ,
    now: datetime = END,
    *,
    marks: Sequence[Mark] = (),
    holds: Sequence[Hold] = (),
    keep_for: KeepFor | None = None,
) -> Decision:
    result = plan([SEG], marks, holds, keep_for or KeepFor(), packs, now)
    [decision] = result.decisions
    return decision


@pytest.mark.parametrize(
    ("days_after_end", "expired"),
    [(29, False), (30 - 1e-6, False), (30, True), (31, True)],
)
def test_standard_footage_goes_after_exactly_30_days(days_after_end: float, expired: bool) -> None:
    decision = _one(now=END + timedelta(days=days_after_end))
    assert decision.retention_class == STANDARD
    assert decision.keep_until == END + timedelta(days=30)
    assert decision.expired is expired
    assert decision.floor.article == "Art. 14(5)"


@pytest.mark.parametrize(("days", "expired"), [(730, False), (731, True)])
def test_marked_footage_is_important_for_two_years(days: int, expired: bool) -> None:
    mark = Mark(7, "cam1", END - timedelta(seconds=10), END + timedelta(hours=1))
    decision = _one(marks=[mark], now=END + timedelta(days=days))
    assert decision.retention_class == IMPORTANT
    assert decision.marked_by == (7,)
    assert decision.expired is expired


@pytest.mark.parametrize(
    "mark",
    [
        Mark(1, "cam2", SEG.start, SEG.end),  # another camera
        Mark(1, "cam1", SEG.end, SEG.end + timedelta(hours=1)),  # touches, no overlap
        Mark(1, "cam1", SEG.start - timedelta(hours=1), SEG.start),
    ],
)
def test_marks_that_do_not_overlap_leave_footage_standard(mark: Mark) -> None:
    assert _one(marks=[mark]).retention_class == STANDARD


def test_a_hold_blocks_deletion_until_released() -> None:
    later = END + timedelta(days=400)
    hold = Hold(3, "cam1", SEG.start, SEG.end)
    held = _one(holds=[hold], now=later)
    assert held.expired is False and held.held_by == (3,)
    released = Hold(3, "cam1", SEG.start, SEG.end, released=True)
    assert _one(holds=[released], now=later).expired is True


@pytest.mark.parametrize(
    ("keep_for", "days"),
    [
        (KeepFor(deployment=45), 45),
        (KeepFor(deployment=45, cameras={"cam1": 90}), 90),
        (KeepFor(cameras={"cam2": 90}), 30),
    ],
)
def test_keep_for_settings_lengthen_retention(keep_for: KeepFor, days: int) -> None:
    decision = _one(keep_for=keep_for)
    assert decision.keep_days == days


def test_keep_for_never_shortens_the_important_class() -> None:
    mark = Mark(1, "cam1", SEG.start, SEG.end)
    assert _one(marks=[mark], keep_for=KeepFor(deployment=60)).keep_days == 731


def test_a_keep_for_below_the_floor_is_refused_citing_the_article() -> None:
    with pytest.raises(RuleViolation) as refused:
        check_keep_for(XJ, 29, END)
    assert refused.value.article == "Art. 14(5)" and refused.value.rule == "retention_standard"
    assert "Art. 14(5)" in str(refused.value)
    check_keep_for(XJ, 30, END)
    with pytest.raises(RuleViolation, match=r"Art\. 17"):
        check_keep_for(CN, 10, END)
    with pytest.raises(InvalidInput):
        check_keep_for(XJ, 0, END)


@pytest.mark.parametrize(
    ("packs", "overdue"),
    [(XJ, False), (CN, True), (BOTH, True)],
)
def test_footage_past_its_date_is_overdue_only_under_a_ceiling(
    packs: PackSet, overdue: bool
) -> None:
    decision = _one(packs=packs, now=END + timedelta(days=31))
    assert decision.expired is True
    assert decision.overdue is overdue


def test_held_footage_is_never_overdue() -> None:
    hold = Hold(1, "cam1", SEG.start, SEG.end)
    decision = _one(packs=CN, holds=[hold], now=END + timedelta(days=100))
    assert decision.overdue is False


def test_a_plan_sums_what_would_go() -> None:
    segs = [
        SegmentInfo.of(i, "cam1", END + timedelta(days=i), END + timedelta(days=i, minutes=1), 10)
        for i in range(10)
    ]
    result = plan(segs, [], [], KeepFor(), XJ, END + timedelta(days=35))
    assert [d.segment.id for d in result.expired] == [0, 1, 2, 3, 4]
    assert result.expired_bytes == 50
    with pytest.raises(InvalidInput):
        plan(segs, [], [], KeepFor(), XJ, END.replace(tzinfo=None))
