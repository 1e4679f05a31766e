"""Several packs at once: prohibitions combine, the earliest deadline and the strictest
minimum win, ties go to the pack listed first, and min-above-max is a conflict."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

import pytest

from oversight.errors import InvalidInput
from oversight.rules.layering import PackSet
from oversight.rules.loader import load_packs
from oversight.rules.schema import RulePack

XJ, CN = load_packs(["xj-2014", "cn-2025"])
BOTH = PackSet([XJ, CN])

BASE: dict[str, Any] = {
    "schema_version": 1,
    "pack": {
        "id": "base",
        "title": {"zh": "测试", "en": "Test"},
        "jurisdiction": {"country": "CN", "admin_division_code": ""},
        "instrument": {"type": "local_regulation", "rank": 30, "issuer": "测试", "number": "1"},
        "promulgated": "2020-01-01",
        "effective": "2020-01-01",
        "timezone": "Asia/Shanghai",
        "articles": 9,
    },
    "site_categories": {},
    "coverage_points": {},
    "placements": {"general": {"name": {"zh": "一般", "en": "General"}, "prohibited": False}},
    "penalties": {},
    "rules": [],
}


def custom(
    pack_id: str,
    *,
    filing_days: int | None = None,
    legacy_days: int | None = None,
    min_days: int | None = None,
    max_days: int | None = None,
    effective: str = "2020-01-01",
    start_day_excluded: bool = True,
    article: int = 5,
) -> RulePack:
    """A small pack made for one case: a filing deadline and/or a retention class."""
    data = copy.deepcopy(BASE)
    data["pack"].update(
        id=pack_id,
        effective=effective,
        promulgated=effective,
        start_day_excluded=start_day_excluded,
    )
    cite = f"Art. {article}"
    if filing_days is not None:
        params: dict[str, Any] = {"event": "commissioning", "days": filing_days}
        if legacy_days is not None:
            params["legacy_days"] = legacy_days
        data["rules"].append(
            {
                "id": "filing",
                "kind": "filing_deadline",
                "cite": cite,
                "summary": {"zh": "备案", "en": "File"},
                "params": params,
            }
        )
    if min_days is not None:
        data["retention_classes"] = {
            "standard": {
                "name": {"zh": "资料", "en": "Footage"},
                "cite": cite,
                "min_days": min_days,
                "max_days": max_days,
            }
        }
    return RulePack.model_validate(data)


NEW_YEAR_2026 = date(2026, 1, 1)
MID_2024 = date(2024, 6, 1)


# ---- which packs apply ----


@pytest.mark.parametrize(
    ("on", "active"),
    [
        (date(2014, 6, 30), []),
        (date(2014, 7, 1), ["xj-2014"]),
        (MID_2024, ["xj-2014"]),
        (date(2025, 3, 31), ["xj-2014"]),
        (date(2025, 4, 1), ["xj-2014", "cn-2025"]),
        (NEW_YEAR_2026, ["xj-2014", "cn-2025"]),
    ],
)
def test_packs_in_force(on: date, active: list[str]) -> None:
    assert [p.pack.id for p in BOTH.active(on)] == active


def test_empty_pack_set_is_refused() -> None:
    with pytest.raises(InvalidInput):
        PackSet([])


# ---- prohibitions: union ----


@pytest.mark.parametrize(
    ("placement", "on", "packs", "articles"),
    [
        ("restaurant_private_room", NEW_YEAR_2026, ["cn-2025"], ["Art. 8(1)"]),
        ("public_toilet", NEW_YEAR_2026, ["xj-2014", "cn-2025"], ["Art. 8(2)", "Art. 8(3)"]),
        ("ballot_or_complaint_box", NEW_YEAR_2026, ["xj-2014"], ["Art. 8(4)"]),
        ("staff_rest_room", NEW_YEAR_2026, ["cn-2025"], ["Art. 8(2)"]),
        ("general", NEW_YEAR_2026, [], []),
        ("restaurant_private_room", MID_2024, [], []),
        ("public_toilet", MID_2024, ["xj-2014"], ["Art. 8(2)"]),
    ],
)
def test_prohibitions_combine(
    placement: str, on: date, packs: list[str], articles: list[str]
) -> None:
    cited = BOTH.prohibitions(placement, on)
    assert [c.pack_id for c in cited] == packs
    assert [c.article for c in cited] == articles
    assert {c.rule_id for c in cited} <= {"prohibited_placement"}


def test_prohibition_carries_each_packs_penalty() -> None:
    xj, cn = BOTH.prohibitions("public_toilet", NEW_YEAR_2026)
    assert xj.penalty is not None and xj.penalty.cite == "Art. 19"
    assert cn.penalty is not None and cn.penalty.cite == "Art. 27 para 1"


def test_vocabularies_are_the_union() -> None:
    BOTH.require_placement("restaurant_private_room")
    BOTH.require_placement("entertainment_private_room")
    BOTH.require_site_category("convention_centre")
    BOTH.require_site_category("pathogen_lab")
    BOTH.require_coverage_point("important_road_section")
    BOTH.require_retention_class("important")
    with pytest.raises(InvalidInput, match="unknown placement 'attic'"):
        BOTH.require_placement("attic")
    with pytest.raises(InvalidInput, match="unknown placement 'restaurant_private_room'"):
        PackSet([XJ]).require_placement("restaurant_private_room")


def test_required_coverage_is_the_union() -> None:
    required = BOTH.required_coverage("school", NEW_YEAR_2026)
    assert {k: [p.pack.id for p, _ in v] for k, v in required.items()} == {
        "entrance": ["xj-2014"],
        "main_passage": ["xj-2014"],
        "key_part": ["xj-2014"],
    }
    assert PackSet([CN]).required_coverage("school", NEW_YEAR_2026) == {}
    # xj-2014 Art. 6 sites are equipped by the government: no owner coverage duty.
    assert BOTH.required_coverage("square", NEW_YEAR_2026) == {}


# ---- filing deadlines: the earliest wins ----


@pytest.mark.parametrize(
    ("first", "second", "winner", "due"),
    [
        (30, 20, "b", date(2024, 3, 21)),
        (20, 30, "a", date(2024, 3, 21)),
        (30, 30, "a", date(2024, 3, 31)),  # a tie goes to the pack listed first
    ],
)
def test_earliest_deadline_wins(first: int, second: int, winner: str, due: date) -> None:
    packs = PackSet([custom("a", filing_days=first), custom("b", filing_days=second)])
    deadlines = packs.filing_deadlines("commissioning", date(2024, 3, 1), date(2024, 4, 1))
    assert deadlines[0].cited.pack_id == winner
    assert deadlines[0].due == due
    assert len(deadlines) == 2
    assert not deadlines[0].legacy


def test_tie_follows_listing_order() -> None:
    a, b = custom("a", filing_days=30), custom("b", filing_days=30)
    on, event = date(2024, 4, 1), date(2024, 3, 1)
    assert PackSet([a, b]).filing_deadlines("commissioning", event, on)[0].cited.pack_id == "a"
    assert PackSet([b, a]).filing_deadlines("commissioning", event, on)[0].cited.pack_id == "b"


def test_xj_legacy_filing_deadline() -> None:
    """Built 2013-05-01, before the measures: file within 60 days of 2014-07-01."""
    [deadline] = PackSet([XJ]).filing_deadlines("commissioning", date(2013, 5, 1), date(2014, 9, 1))
    assert deadline.due == date(2014, 8, 30)
    assert deadline.legacy
    assert (deadline.cited.rule_id, deadline.cited.article) == (
        "filing_commissioning",
        "Art. 12 para 1",
    )


def test_cn_legacy_filing_deadline() -> None:
    """Running since 2020 and still present: file within 90 days of 2025-04-01."""
    [deadline] = PackSet([CN]).filing_deadlines("commissioning", date(2020, 6, 1), date(2025, 5, 1))
    assert deadline.due == date(2025, 6, 30)
    assert deadline.legacy
    assert deadline.cited.penalty is not None and deadline.cited.penalty.cite == "Art. 29"


def test_cn_legacy_deadline_needs_the_camera_still_present() -> None:
    packs = PackSet([CN])
    event, on = date(2020, 6, 1), date(2025, 5, 1)
    assert packs.filing_deadlines("commissioning", event, on, removed=date(2025, 3, 1)) == []
    assert packs.filing_deadlines("commissioning", event, on, removed=date(2025, 4, 1)) == []
    [kept] = packs.filing_deadlines("commissioning", event, on, removed=date(2025, 4, 2))
    assert kept.due == date(2025, 6, 30)


def test_both_packs_legacy_and_current() -> None:
    """Under both packs a 2020 camera owed its xj filing first; cn's legacy one follows."""
    deadlines = BOTH.filing_deadlines("commissioning", date(2020, 6, 1), date(2025, 5, 1))
    assert [(d.cited.pack_id, d.due, d.legacy) for d in deadlines] == [
        ("xj-2014", date(2020, 7, 1), False),
        ("cn-2025", date(2025, 6, 30), True),
    ]


def test_commissioning_after_both_took_effect() -> None:
    deadlines = BOTH.filing_deadlines("commissioning", date(2025, 5, 10), date(2025, 6, 1))
    assert [(d.cited.pack_id, d.due) for d in deadlines] == [
        ("xj-2014", date(2025, 6, 9)),
        ("cn-2025", date(2025, 6, 9)),
    ]


def test_only_xj_judges_2024() -> None:
    deadlines = BOTH.filing_deadlines("commissioning", date(2024, 5, 1), MID_2024)
    assert [d.cited.pack_id for d in deadlines] == ["xj-2014"]


def test_removal_deadline_only_from_xj() -> None:
    deadlines = BOTH.filing_deadlines(
        "removal", date(2025, 6, 1), NEW_YEAR_2026, removed=date(2025, 6, 1)
    )
    assert [(d.cited.pack_id, d.cited.rule_id, d.due) for d in deadlines] == [
        ("xj-2014", "filing_removal", date(2025, 7, 1))
    ]


def test_start_day_included_moves_deadline_one_day_earlier() -> None:
    pack = custom("a", filing_days=30, start_day_excluded=False)
    [deadline] = PackSet([pack]).filing_deadlines(
        "commissioning", date(2024, 3, 1), date(2024, 4, 1)
    )
    assert deadline.due == date(2024, 3, 30)


def test_legacy_deadline_from_a_custom_pack() -> None:
    pack = custom("a", filing_days=30, legacy_days=10, effective="2024-01-01")
    [deadline] = PackSet([pack]).filing_deadlines(
        "commissioning", date(2023, 1, 1), date(2024, 2, 1)
    )
    assert (deadline.due, deadline.legacy) == (date(2024, 1, 11), True)
    # A pack without legacy_days imposes nothing on systems older than itself.
    old = custom("b", filing_days=30, effective="2024-01-01")
    assert (
        PackSet([old]).filing_deadlines("commissioning", date(2023, 1, 1), date(2024, 2, 1)) == []
    )


# ---- retention: the strictest minimum and maximum win ----


def test_strictest_minimum_wins() -> None:
    packs = PackSet([custom("a", min_days=30), custom("b", min_days=90)])
    bound = packs.retention_minimum("standard", date(2024, 1, 1))
    assert bound is not None
    assert (bound.days, bound.pack_id, bound.article) == (90, "b", "Art. 5")


def test_minimum_tie_goes_to_first_pack() -> None:
    packs = PackSet([custom("a", min_days=30), custom("b", min_days=30)])
    bound = packs.retention_minimum("standard", date(2024, 1, 1))
    assert bound is not None and bound.pack_id == "a"


def test_builtin_minimums() -> None:
    assert (b := BOTH.retention_minimum("standard", NEW_YEAR_2026)) is not None
    assert (b.days, b.pack_id) == (30, "xj-2014")
    assert (b := BOTH.retention_minimum("important", NEW_YEAR_2026)) is not None
    assert (b.days, b.pack_id, b.article) == (731, "xj-2014", "Art. 14(5)")
    assert BOTH.retention_minimum("unknown", NEW_YEAR_2026) is None
    assert BOTH.retention_maximum("standard", NEW_YEAR_2026) is None


def test_strictest_maximum_wins() -> None:
    packs = PackSet([custom("a", min_days=7, max_days=60), custom("b", min_days=7, max_days=30)])
    bound = packs.retention_maximum("standard", date(2024, 1, 1))
    assert bound is not None and (bound.days, bound.pack_id) == (30, "b")
    assert packs.conflicts(date(2024, 1, 1)) == []


def test_minimum_above_maximum_is_a_conflict() -> None:
    strict = custom("floor", min_days=90, article=7)
    short = custom("ceiling", min_days=7, max_days=60, article=3)
    [conflict] = PackSet([strict, short]).conflicts(date(2024, 1, 1))
    assert conflict.retention_class == "standard"
    assert (conflict.minimum.pack_id, conflict.minimum.days, conflict.minimum.article) == (
        "floor",
        90,
        "Art. 7",
    )
    assert (conflict.maximum.pack_id, conflict.maximum.days, conflict.maximum.article) == (
        "ceiling",
        60,
        "Art. 3",
    )
    assert "floor Art. 7" in conflict.message and "ceiling Art. 3" in conflict.message


def test_conflict_only_while_both_in_force() -> None:
    strict = custom("floor", min_days=90)
    later = custom("ceiling", min_days=7, max_days=60, effective="2025-01-01")
    packs = PackSet([strict, later])
    assert packs.conflicts(date(2024, 12, 31)) == []
    assert len(packs.conflicts(date(2025, 1, 1))) == 1


def test_builtin_packs_do_not_conflict() -> None:
    assert BOTH.conflicts(NEW_YEAR_2026) == []


# ---- time ----


def test_local_dates_are_china_time() -> None:
    assert BOTH.start_of_day(date(2025, 4, 1)) == datetime(2025, 3, 31, 16, 0, tzinfo=UTC)
    assert BOTH.local_date(datetime(2025, 3, 31, 16, 0, tzinfo=UTC)) == date(2025, 4, 1)
    assert BOTH.local_date(datetime(2025, 3, 31, 15, 59, tzinfo=UTC)) == date(2025, 3, 31)
    with pytest.raises(ValueError, match="naive"):
        BOTH.local_date(datetime(2025, 4, 1))
