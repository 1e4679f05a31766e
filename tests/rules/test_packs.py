"""The builtin packs: they load, cover every article, and keep the id contract."""

from __future__ import annotations

import re
from datetime import date

import pytest

from oversight.rules.loader import builtin_pack_ids, load_builtin
from oversight.rules.schema import (
    AccessApprovalRule,
    FilingDeadlineRule,
    InstallerRestrictedRule,
    PersonsPresentRule,
    PlacementProhibitedRule,
    RetentionCeilingRule,
    Rule,
    RulePack,
    TrainingRequiredRule,
    cited_articles,
)

PACK_IDS = ["xj-2014", "cn-2025"]
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def pack(pack_id: str) -> RulePack:
    return load_builtin(pack_id)


XJ = pack("xj-2014")
CN = pack("cn-2025")


def rule(p: RulePack, rule_id: str) -> Rule:
    found = [r for r in p.rules if r.id == rule_id]
    assert len(found) == 1, f"{p.pack.id}: rule {rule_id!r} found {len(found)} times"
    return found[0]


# ---- both packs ----


def test_builtin_ids() -> None:
    assert set(PACK_IDS) <= set(builtin_pack_ids())


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_every_article_is_cited(pack_id: str) -> None:
    assert pack(pack_id).uncovered_articles() == []


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_every_id_is_snake_case(pack_id: str) -> None:
    p = pack(pack_id)
    ids = [r.id for r in p.rules]
    ids += [*p.placements, *p.penalties, *p.site_categories, *p.coverage_points]
    ids += [*p.retention_classes, *p.documents]
    assert [i for i in ids if not SNAKE.match(i)] == []


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_every_prohibited_placement_is_cited_and_enforced(pack_id: str) -> None:
    p = pack(pack_id)
    prohibited = {pid for pid, pl in p.placements.items() if pl.prohibited}
    assert all(p.placements[pid].cite for pid in prohibited)
    enforced = {
        pid
        for r in p.rules
        if isinstance(r, PlacementProhibitedRule)
        for pid in r.params.placements
    }
    assert enforced == prohibited
    assert p.placements["general"].prohibited is False


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_every_penalty_is_used(pack_id: str) -> None:
    p = pack(pack_id)
    used = {r.penalty for r in p.rules if r.penalty}
    assert used == set(p.penalties)


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_cites_name_articles_of_the_instrument(pack_id: str) -> None:
    p = pack(pack_id)
    cites = [r.cite for r in p.rules] + [x.cite for x in p.penalties.values()]
    cites += [x.cite for x in p.site_categories.values()]
    cites += [x.cite for x in p.coverage_points.values()]
    cites += [x.cite for x in p.documents.values()]
    cites += [
        x.cite
        for r in p.rules
        if isinstance(r, AccessApprovalRule)
        for x in r.params.matrix.values()
    ]
    for cite in cites:
        articles = cited_articles(cite)
        assert articles, cite
        assert all(1 <= a <= p.pack.articles for a in articles), cite


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_chinese_legal_time(pack_id: str) -> None:
    p = pack(pack_id)
    assert p.pack.timezone == "Asia/Shanghai"
    assert p.pack.start_day_excluded is True


@pytest.mark.parametrize("pack_id", PACK_IDS)
def test_fines_are_ordered(pack_id: str) -> None:
    for pen in pack(pack_id).penalties.values():
        fines = [pen.fine] if pen.fine else []
        fines += list(pen.fines_by_subject.values())
        assert all(f.min_cny <= f.max_cny for f in fines)


# ---- xj-2014: metadata and the id contract ----


def test_xj_metadata() -> None:
    info = XJ.pack
    assert info.id == "xj-2014"
    assert (info.promulgated, info.effective, info.articles) == (
        date(2014, 5, 1),
        date(2014, 7, 1),
        23,
    )
    assert (info.instrument.type, info.instrument.rank) == ("local_government_rule", 40)
    assert info.instrument.issuer == "新疆维吾尔自治区人民政府"
    assert info.instrument.number == "令第190号"
    assert (info.jurisdiction.country, info.jurisdiction.admin_division_code) == ("CN", "65")
    assert not XJ.in_force(date(2014, 6, 30))
    assert XJ.in_force(date(2014, 7, 1))


def test_xj_coverage_points() -> None:
    assert set(XJ.coverage_points) == {
        "entrance",
        "main_passage",
        "key_part",
        "important_road_section",
    }


XJ_ART6 = [
    "square",
    "park",
    "pedestrian_bridge",
    "underpass",
    "tunnel",
    "urban_road",
    "town_centre",
    "designated_public_area",
]
XJ_ART7 = {
    "hazardous_materials_site": 1,
    "pathogen_lab": 1,
    "state_organ": 2,
    "broadcaster": 2,
    "newspaper": 2,
    "telecom": 2,
    "post_office": 2,
    "kindergarten": 3,
    "school": 3,
    "research_institution": 3,
    "hospital": 3,
    "museum": 3,
    "cultural_relic_unit": 3,
    "bank_vault": 4,
    "cash_storage": 4,
    "cash_escort_vehicle": 4,
    "bank_branch": 4,
    "financial_data_centre": 4,
    "water_supply": 5,
    "power_supply": 5,
    "gas_supply": 5,
    "heat_supply": 5,
    "fuel_station": 5,
    "airport": 6,
    "railway_station": 6,
    "bus_station": 6,
    "public_transport_vehicle": 6,
    "shopping_centre": 7,
    "logistics_centre": 7,
    "reserve_depot": 7,
    "hotel": 7,
    "car_park": 7,
    "tourist_site": 7,
    "entertainment_venue": 7,
    "sports_venue": 7,
    "internet_cafe": 7,
    "religious_site": 7,
    "residential_compound": 7,
    "dyke": 8,
    "reservoir": 8,
    "artificial_lake": 8,
    "drinking_water_source": 8,
    "flood_control_area": 8,
    "water_works": 8,
    "designated_unit": 9,
}


@pytest.mark.parametrize("cat_id", XJ_ART6)
def test_xj_art6_categories(cat_id: str) -> None:
    cat = XJ.site_categories[cat_id]
    assert cat.regime == "government_managed"
    assert cat.cite.startswith("Art. 6(")
    assert cat.required_coverage == ["entrance", "important_road_section", "key_part"]
    assert cat.name.zh and cat.name.en


def test_xj_designated_public_area_is_art6_4() -> None:
    assert XJ.site_categories["designated_public_area"].cite == "Art. 6(4)"


@pytest.mark.parametrize(("cat_id", "item"), sorted(XJ_ART7.items()))
def test_xj_art7_categories(cat_id: str, item: int) -> None:
    cat = XJ.site_categories[cat_id]
    assert cat.regime == "unit_managed"
    assert cat.cite == f"Art. 7({item})"
    assert cat.required_coverage == ["entrance", "main_passage", "key_part"]


def test_xj_art7_items_all_present() -> None:
    items = {c.cite for c in XJ.site_categories.values() if c.regime == "unit_managed"}
    assert items == {f"Art. 7({n})" for n in range(1, 10)}


XJ_PLACEMENTS = {
    "hotel_guest_room": "Art. 8(1)",
    "entertainment_private_room": "Art. 8(1)",
    "staff_dormitory": "Art. 8(2)",
    "public_bath": "Art. 8(2)",
    "public_toilet": "Art. 8(2)",
    "fitting_room": "Art. 8(2)",
    "changing_room": "Art. 8(2)",
    "nursing_room": "Art. 8(2)",
    "financial_operating_position": "Art. 8(3)",
    "ballot_or_complaint_box": "Art. 8(4)",
    "other_private_place": "Art. 8(5)",
}


def test_xj_placements() -> None:
    assert set(XJ.placements) == {"general", *XJ_PLACEMENTS}
    assert {pid: p.cite for pid, p in XJ.placements.items() if p.prohibited} == XJ_PLACEMENTS


def test_xj_retention_classes() -> None:
    standard, important = XJ.retention_classes["standard"], XJ.retention_classes["important"]
    assert (standard.min_days, standard.cite) == (30, "Art. 14(5)")
    assert important.min_days >= 730
    assert important.min_days == 731
    assert important.cite == "Art. 14(5)"
    assert standard.max_days is None and important.max_days is None


def test_xj_documents() -> None:
    assert set(XJ.documents) == {
        "work_id",
        "identity_document",
        "unit_letter",
        "police_approval",
        "agency_head_approval",
        "own_agency_head",
        "county_police",
    }


@pytest.mark.parametrize(
    ("pen_id", "staged", "low", "high"),
    [("art18", True, 0, 30000), ("art19", True, 200, 1000), ("art20", False, 200, 20000)],
)
def test_xj_penalties(pen_id: str, staged: bool, low: int, high: int) -> None:
    pen = XJ.penalties[pen_id]
    assert pen.staged is staged
    assert pen.fine is not None
    assert (pen.fine.min_cny, pen.fine.max_cny) == (low, high)
    assert pen.cite == f"Art. {pen_id[3:]}"


XJ_RULES = [
    ("prohibited_placement", "placement_prohibited", "Art. 8 para 1", "art19"),
    ("unauthorised_install_art6", "installer_restricted", "Art. 8 para 2", "art19"),
    ("installer_qualified", "installer_qualified", "Art. 11", None),
    ("filing_commissioning", "filing_deadline", "Art. 12 para 1", "art19"),
    ("filing_removal", "filing_deadline", "Art. 12 para 2", "art19"),
    ("coverage_required", "coverage_required", "Art. 7", "art18"),
    ("obstruction", "obstruction", "Art. 13", "art19"),
    ("operating_procedures", "manual", "Art. 14(1)", "art20"),
    ("staff_training", "training_required", "Art. 14(2)", "art20"),
    ("access_register", "access_register", "Art. 14(3)", "art20"),
    ("suspicious_report", "incident_report", "Art. 14(4)", "art20"),
    ("retention_standard", "retention_minimum", "Art. 14(5)", "art20"),
    ("retention_important", "retention_minimum", "Art. 14(5)", "art20"),
    ("no_purpose_change", "manual", "Art. 15(1)", "art20"),
    ("original_integrity", "integrity", "Art. 15(2)", "art20"),
    ("no_unauthorised_access", "access_control", "Art. 15(3)", "art20"),
    ("no_obstructing_authorities", "manual", "Art. 15(4)", "art20"),
    ("no_damage", "manual", "Art. 15(5)", "art20"),
    ("no_other_interference", "manual", "Art. 15(6)", "art20"),
    ("access_approval", "access_approval", "Art. 16", "art20"),
    ("persons_present", "persons_present", "Art. 17(3)", None),
    ("confidentiality", "manual", "Art. 17(4)", None),
    ("no_profiteering", "manual", "Art. 17 para 2", "art20"),
]


@pytest.mark.parametrize(("rule_id", "kind", "cite", "penalty"), XJ_RULES)
def test_xj_rule_contract(rule_id: str, kind: str, cite: str, penalty: str | None) -> None:
    r = rule(XJ, rule_id)
    assert (r.kind, r.cite, r.penalty) == (kind, cite, penalty)


def test_xj_rule_params() -> None:
    placement = rule(XJ, "prohibited_placement")
    assert isinstance(placement, PlacementProhibitedRule)
    assert placement.severity == "critical"
    assert set(placement.params.placements) == set(XJ_PLACEMENTS)

    art6 = rule(XJ, "unauthorised_install_art6")
    assert isinstance(art6, InstallerRestrictedRule)
    assert art6.params.regimes == ["government_managed"]
    assert art6.params.allowed_owner_kinds == ["police"]

    commissioning = rule(XJ, "filing_commissioning")
    assert isinstance(commissioning, FilingDeadlineRule)
    assert (commissioning.params.event, commissioning.params.days) == ("commissioning", 30)
    assert commissioning.params.legacy_days == 60

    removal = rule(XJ, "filing_removal")
    assert isinstance(removal, FilingDeadlineRule)
    assert (removal.params.event, removal.params.days, removal.params.legacy_days) == (
        "removal",
        30,
        None,
    )

    training = rule(XJ, "staff_training")
    assert isinstance(training, TrainingRequiredRule)
    assert training.params.roles == ["admin", "operator", "custodian"]
    assert training.params.topics == ["job_skills", "confidentiality"]

    assert rule(XJ, "original_integrity").severity == "critical"
    summary = rule(XJ, "installer_qualified").summary.en
    assert "Art. 21" in summary


def test_xj_access_matrix() -> None:
    access = rule(XJ, "access_approval")
    assert isinstance(access, AccessApprovalRule)
    matrix = access.params.matrix
    assert set(matrix) == {
        "police",
        "state_security",
        "emergency_response",
        "other_unit",
        "individual",
    }
    for who in ("police", "state_security"):
        assert matrix[who].approvals == ["own_agency_head"]
        assert matrix[who].documents == ["work_id", "identity_document", "unit_letter"]
        assert matrix[who].cite == "Art. 16 para 1"
    assert matrix["emergency_response"].approvals == []
    assert matrix["emergency_response"].cite == "Art. 16 para 1"
    for who in ("other_unit", "individual"):
        assert matrix[who].approvals == ["county_police"]
        assert "police_approval" in matrix[who].documents
        assert matrix[who].cite == "Art. 16 para 2"
    assert "unit_letter" in matrix["other_unit"].documents
    assert "unit_letter" not in matrix["individual"].documents
    assert all(set(e.kinds) == {"view", "copy", "retrieve"} for e in matrix.values())

    present = rule(XJ, "persons_present")
    assert isinstance(present, PersonsPresentRule)
    assert present.params.min_persons == 2
    assert present.params.documents == ["work_id", "identity_document"]


def test_xj_informational_articles() -> None:
    noted = {a for i in XJ.informational for a in cited_articles(i.cite)}
    assert noted == {1, 2, 3, 4, 5, 9, 10, 21, 22, 23}
    assert all(i.reason.strip() for i in XJ.informational)


# ---- cn-2025 ----


def test_cn_metadata() -> None:
    info = CN.pack
    assert info.id == "cn-2025"
    assert (info.promulgated, info.effective, info.articles) == (
        date(2025, 1, 13),
        date(2025, 4, 1),
        34,
    )
    assert (info.instrument.type, info.instrument.rank) == ("administrative_regulation", 20)
    assert info.instrument.number == "国务院令第799号"
    assert (info.jurisdiction.country, info.jurisdiction.admin_division_code) == ("CN", "")


SHARED_IDS = {
    "coverage_points": {"entrance", "main_passage", "key_part"},
    "placements": {
        "general",
        "hotel_guest_room",
        "public_bath",
        "public_toilet",
        "changing_room",
        "nursing_room",
        "fitting_room",
        "other_private_place",
        "staff_dormitory",
    },
    "site_categories": {
        "square",
        "park",
        "school",
        "hospital",
        "car_park",
        "tourist_site",
        "tunnel",
        "underpass",
        "airport",
        "railway_station",
        "bus_station",
        "shopping_centre",
        "public_transport_vehicle",
    },
    "retention_classes": {"standard"},
    "documents": {"identity_document"},
    "rules": {
        "prohibited_placement",
        "filing_commissioning",
        "obstruction",
        "staff_training",
        "access_register",
        "access_approval",
        "retention_standard",
        "original_integrity",
        "no_other_interference",
    },
}


@pytest.mark.parametrize("section", sorted(SHARED_IDS))
def test_cn_shares_ids_with_xj(section: str) -> None:
    def ids(p: RulePack) -> set[str]:
        if section == "rules":
            return {r.id for r in p.rules}
        return set(getattr(p, section))

    assert SHARED_IDS[section] <= ids(XJ)
    assert SHARED_IDS[section] <= ids(CN)


def test_cn_new_placements() -> None:
    new = {"restaurant_private_room", "student_dormitory", "staff_rest_room"}
    assert all(CN.placements[p].prohibited for p in new)
    assert not new & set(XJ.placements)
    assert {p for p, pl in CN.placements.items() if pl.prohibited} == {
        *new,
        "hotel_guest_room",
        "staff_dormitory",
        "public_bath",
        "public_toilet",
        "changing_room",
        "nursing_room",
        "fitting_room",
        "other_private_place",
    }


@pytest.mark.parametrize(
    ("cat_id", "regime"),
    [
        ("main_road", "government_managed"),
        ("boundary_road", "government_managed"),
        ("bridge", "government_managed"),
        ("key_unit_surroundings", "government_managed"),
        ("square", "government_managed"),
        ("convention_centre", "unit_managed"),
        ("government_service_hall", "unit_managed"),
        ("transport_hub", "unit_managed"),
        ("expressway_service_area", "unit_managed"),
        ("other_public_place", "other_public"),
    ],
)
def test_cn_site_categories(cat_id: str, regime: str) -> None:
    assert CN.site_categories[cat_id].regime == regime


def test_cn_required_coverage_is_left_to_the_departments() -> None:
    assert all(c.required_coverage == [] for c in CN.site_categories.values())


def test_cn_filing() -> None:
    filing = rule(CN, "filing_commissioning")
    assert isinstance(filing, FilingDeadlineRule)
    assert (filing.cite, filing.penalty) == ("Art. 14", "art29")
    assert (filing.params.event, filing.params.days, filing.params.legacy_days) == (
        "commissioning",
        30,
        90,
    )
    deadlines = [r for r in CN.rules if isinstance(r, FilingDeadlineRule)]
    assert [r.params.event for r in deadlines] == ["commissioning"]
    assert rule(CN, "filing_changes").kind == "manual"


@pytest.mark.parametrize(
    ("pen_id", "staged", "unit", "individual", "responsible"),
    [
        ("art26", True, (0, 20000), (0, 5000), (0, 5000)),
        ("art27", False, (10000, 20000), (5000, 10000), (5000, 10000)),
        ("art27_para2", True, (10000, 20000), (5000, 10000), (5000, 10000)),
        ("art28", False, (10000, 20000), (5000, 10000), (5000, 10000)),
        ("art30", True, (5000, 10000), (0, 5000), (0, 5000)),
    ],
)
def test_cn_penalties_by_subject(
    pen_id: str,
    staged: bool,
    unit: tuple[int, int],
    individual: tuple[int, int],
    responsible: tuple[int, int],
) -> None:
    pen = CN.penalties[pen_id]
    assert pen.staged is staged
    by = {who: (f.min_cny, f.max_cny) for who, f in pen.fines_by_subject.items()}
    assert by == {"unit": unit, "individual": individual, "responsible_person": responsible}
    assert pen.fine is not None and (pen.fine.min_cny, pen.fine.max_cny) == unit


def test_cn_filing_penalty() -> None:
    pen = CN.penalties["art29"]
    assert pen.staged is True
    assert pen.fine is not None and (pen.fine.min_cny, pen.fine.max_cny) == (0, 10000)


def test_cn_placement_and_installer_rules() -> None:
    placement = rule(CN, "prohibited_placement")
    assert isinstance(placement, PlacementProhibitedRule)
    assert (placement.cite, placement.penalty, placement.severity) == (
        "Art. 8 para 1",
        "art27",
        "critical",
    )
    installers = [r for r in CN.rules if isinstance(r, InstallerRestrictedRule)]
    assert {r.penalty for r in installers} == {"art26"}
    assert {a for r in installers for a in cited_articles(r.cite)} == {7, 9}
    regimes = {g for r in installers for g in r.params.regimes}
    assert regimes == {"government_managed", "unit_managed", "other_public"}


def test_cn_retention() -> None:
    standard = CN.retention_classes["standard"]
    assert (standard.min_days, standard.delete_when_purpose_met, standard.cite) == (
        30,
        True,
        "Art. 17",
    )
    assert set(CN.retention_classes) == {"standard"}
    ceiling = rule(CN, "retention_ceiling")
    assert isinstance(ceiling, RetentionCeilingRule)
    assert (ceiling.cite, ceiling.params.retention_class) == ("Art. 17", "standard")


def test_cn_has_no_two_person_rule() -> None:
    assert not [r for r in CN.rules if isinstance(r, PersonsPresentRule)]


def test_cn_art9_exemptions_cover_the_named_articles() -> None:
    """Art. 9 para 2: other public places are exempt from Arts. 11, 14, 15, 16 para 2, 17."""
    exempt = set(CN.site_categories["other_public_place"].exempt_rules)
    named = {
        r.id
        for r in CN.rules
        if cited_articles(r.cite)[0] in (11, 14, 15, 17) or r.cite.startswith("Art. 16 para 2")
    }
    assert exempt == named
    assert all(
        not c.exempt_rules for k, c in CN.site_categories.items() if k != "other_public_place"
    )
