"""The compliance engine as a pure function: tables of cases, day before and day after."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from oversight.domain.compliance import Finding, evaluate
from oversight.domain.model import (
    CameraRec,
    FilingRec,
    ObstructionRec,
    Org,
    RegistryState,
    SiteRec,
)
from oversight.rules.layering import PackSet
from oversight.rules.loader import load_packs

XJ = PackSet(load_packs(["xj-2014"]))
BOTH = PackSet(load_packs(["xj-2014", "cn-2025"]))

OWNER = Org("acme", "Acme", "owner")
POLICE = Org("psb", "County PSB", "police")
INSTALLER = Org("inst", "Install Co", "installer", "Q-1", date(2026, 6, 30))
SCHOOL = SiteRec("s1", "School", "school", "acme")


def state(*cams: CameraRec, site: SiteRec = SCHOOL, filings=(), obstructions=()) -> RegistryState:
    return RegistryState(
        orgs={o.id: o for o in (OWNER, POLICE, INSTALLER)},
        sites={site.id: site},
        cameras={c.id: c for c in cams},
        filings=list(filings),
        obstructions=list(obstructions),
    )


def cam(cid: str = "c1", **kw: object) -> CameraRec:
    base = CameraRec(cid, "s1", "general", "entrance", date(2026, 3, 1))
    return replace(base, **kw)  # type: ignore[arg-type]


def full_coverage(commissioned: date = date(2026, 3, 1)) -> list[CameraRec]:
    return [
        cam(f"cov-{p}", coverage_point=p, commissioned=commissioned)
        for p in ("entrance", "main_passage", "key_part")
    ]


def filed(*cams: CameraRec) -> list[FilingRec]:
    return [FilingRec(c.id, "commissioning", c.commissioned, "R") for c in cams]


def rules_of(findings: list[Finding], subject: str | None = None) -> list[str]:
    return sorted(f.rule for f in findings if subject is None or f.subject == subject)


# (case, packs, state, day, expected rules for subject camera:c1 / site:s1)
D = date(2026, 3, 1)
COVER = full_coverage()
CASES = [
    (
        "filed in time",
        XJ,
        state(cam(), *COVER, filings=filed(cam(), *COVER)),
        D + timedelta(60),
        [],
    ),
    ("unfiled, last day", XJ, state(cam(), *COVER, filings=filed(*COVER)), D + timedelta(30), []),
    (
        "unfiled, day after",
        XJ,
        state(cam(), *COVER, filings=filed(*COVER)),
        D + timedelta(31),
        ["filing_commissioning"],
    ),
    (
        "legacy camera, last day",
        XJ,
        state(cam(commissioned=date(2012, 1, 1)), *COVER, filings=filed(*COVER)),
        date(2014, 8, 30),
        [],
    ),
    (
        "legacy camera, day after",
        XJ,
        state(cam(commissioned=date(2012, 1, 1)), *COVER, filings=filed(*COVER)),
        date(2014, 8, 31),
        ["filing_commissioning"],
    ),
    (
        "removal unfiled, last day",
        XJ,
        state(cam(removed=D + timedelta(10)), *COVER, filings=filed(cam(), *COVER)),
        D + timedelta(40),
        [],
    ),
    (
        "removal unfiled, day after",
        XJ,
        state(cam(removed=D + timedelta(10)), *COVER, filings=filed(cam(), *COVER)),
        D + timedelta(41),
        ["filing_removal"],
    ),
    (
        "prohibited placement in the registry",
        XJ,
        state(cam(placement="fitting_room"), *COVER, filings=filed(cam(), *COVER)),
        D,
        ["prohibited_placement"],
    ),
    (
        "prohibited placement, removed",
        XJ,
        state(cam(placement="fitting_room", removed=D), *COVER, filings=filed(*COVER)),
        D,
        [],
    ),
    (
        "installer qualification expired before commissioning",
        XJ,
        state(
            cam(installer_id="inst", commissioned=date(2026, 7, 1)),
            *COVER,
            filings=filed(cam(commissioned=date(2026, 7, 1)), *COVER),
        ),
        date(2026, 7, 2),
        ["installer_qualified"],
    ),
    (
        "installer qualified on the day of commissioning",
        XJ,
        state(
            cam(installer_id="inst", commissioned=date(2026, 6, 30)),
            *COVER,
            filings=filed(cam(commissioned=date(2026, 6, 30)), *COVER),
        ),
        date(2026, 7, 2),
        [],
    ),
    (
        "open obstruction",
        XJ,
        state(
            cam(),
            *COVER,
            filings=filed(cam(), *COVER),
            obstructions=[ObstructionRec(1, "c1", D + timedelta(5), "tree")],
        ),
        D + timedelta(5),
        ["obstruction"],
    ),
    (
        "obstruction the day before it was reported",
        XJ,
        state(
            cam(),
            *COVER,
            filings=filed(cam(), *COVER),
            obstructions=[ObstructionRec(1, "c1", D + timedelta(5), "tree")],
        ),
        D + timedelta(4),
        [],
    ),
    (
        "obstruction resolved",
        XJ,
        state(
            cam(),
            *COVER,
            filings=filed(cam(), *COVER),
            obstructions=[ObstructionRec(1, "c1", D, "tree", D + timedelta(3))],
        ),
        D + timedelta(3),
        [],
    ),
    (
        "non-police owner in a square",
        XJ,
        state(cam(), site=SiteRec("s1", "Square", "square", "acme"), filings=filed(cam())),
        D,
        ["unauthorised_install_art6"],
    ),
    (
        "police in a square",
        XJ,
        state(cam(), site=SiteRec("s1", "Square", "square", "psb"), filings=filed(cam())),
        D,
        [],
    ),
]


@pytest.mark.parametrize(
    ("case", "packs", "st", "day", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_camera_rules(
    case: str, packs: PackSet, st: RegistryState, day: date, expected: list[str]
) -> None:
    assert rules_of(evaluate(st, packs, day), "camera:c1") == expected


def test_every_finding_names_article_and_penalty_from_the_pack() -> None:
    st = state(cam(placement="public_toilet"), filings=[])
    found = evaluate(st, XJ, D + timedelta(31))
    by_rule = {f.rule: f for f in found}
    assert by_rule["prohibited_placement"].article == "Art. 8(2)"
    assert (by_rule["prohibited_placement"].min_cny, by_rule["prohibited_placement"].max_cny) == (
        200,
        1000,
    )
    assert by_rule["filing_commissioning"].article.startswith("Art. 12")
    assert by_rule["filing_commissioning"].deadline == D + timedelta(30)
    assert by_rule["filing_commissioning"].since == D + timedelta(31)
    assert by_rule["coverage_required"].article.startswith("Art. 7")
    assert by_rule["coverage_required"].max_cny == 30000
    assert found[0].severity == "critical"


@pytest.mark.parametrize(
    ("cams", "missing"),
    [
        ([], ["entrance", "key_part", "main_passage"]),
        ([cam(coverage_point="entrance")], ["key_part", "main_passage"]),
        (full_coverage(), []),
        ([*full_coverage()[:2], cam("kp", coverage_point="key_part", removed=D)], ["key_part"]),
    ],
)
def test_coverage(cams: list[CameraRec], missing: list[str]) -> None:
    found = [
        f for f in evaluate(state(*cams, filings=filed(*cams)), XJ, D) if f.subject == "site:s1"
    ]
    assert sorted(f.message.rsplit("required ", 1)[1].replace(" ", "_") for f in found) == missing


def test_rules_before_the_pack_took_effect_do_not_apply() -> None:
    st = state(cam(placement="public_toilet", commissioned=date(2013, 1, 1)))
    assert evaluate(st, XJ, date(2014, 6, 30)) == []


def test_layered_packs_cite_both_and_the_earliest_wins() -> None:
    st = state(cam(placement="public_toilet"), *full_coverage())
    found = evaluate(st, BOTH, D + timedelta(31))
    placement = next(f for f in found if f.rule == "prohibited_placement")
    assert placement.pack == "xj-2014"
    assert [c.pack_id for c in placement.also] == ["cn-2025"]
    filing = next(f for f in found if f.rule == "filing_commissioning" and f.subject == "camera:c1")
    assert filing.pack == "xj-2014" and [c.pack_id for c in filing.also] == ["cn-2025"]


def test_cn_2025_alone_sets_its_own_legacy_deadline() -> None:
    cn = PackSet(load_packs(["cn-2025"]))
    st = state(cam(commissioned=date(2020, 5, 1)))
    assert not [f for f in evaluate(st, cn, date(2025, 6, 30)) if f.rule == "filing_commissioning"]
    (late,) = [f for f in evaluate(st, cn, date(2025, 7, 1)) if f.rule == "filing_commissioning"]
    assert late.deadline == date(2025, 6, 30) and late.article.startswith("Art. 14")


def test_cn_2025_exempts_other_public_places_from_filing_but_not_from_art_8() -> None:
    cn = PackSet(load_packs(["cn-2025"]))
    other = SiteRec("s1", "Shop front", "other_public_place", "acme")
    st = state(cam(commissioned=date(2026, 1, 1)), site=other)
    assert [f.rule for f in evaluate(st, cn, date(2026, 6, 1))] == []
    toilet = state(cam(placement="public_toilet", commissioned=date(2026, 1, 1)), site=other)
    assert [f.rule for f in evaluate(toilet, cn, date(2026, 6, 1))] == ["prohibited_placement"]
    school = state(cam(commissioned=date(2026, 1, 1)))
    assert [f.rule for f in evaluate(school, cn, date(2026, 6, 1))] == ["filing_commissioning"]
