"""Access rules from the packs, table-driven: documents and approvals per requester
class, the combination of packs, self-approval, two people present, grant scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from oversight.domain.access import (
    Grant,
    MissingDocuments,
    check_approver,
    check_documents,
    check_persons,
    check_scope,
    check_use,
    class_documents,
    requirements,
)
from oversight.errors import InvalidInput, RuleViolation
from oversight.rules.layering import PackSet
from oversight.rules.loader import load_packs

XJ = PackSet(load_packs(["xj-2014"]))
CN = PackSet(load_packs(["cn-2025"]))
BOTH = PackSet(load_packs(["xj-2014", "cn-2025"]))
ON = date(2026, 6, 1)
T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("org_class", "documents", "approvals"),
    [
        ("police", {"work_id", "identity_document", "unit_letter"}, {"own_agency_head"}),
        ("state_security", {"work_id", "identity_document", "unit_letter"}, {"own_agency_head"}),
        ("emergency_response", {"work_id", "identity_document", "unit_letter"}, set()),
        ("other_unit", {"work_id", "identity_document", "unit_letter", "police_approval"},
         {"county_police"}),
        ("individual", {"identity_document", "police_approval"}, {"county_police"}),
    ],
)  # fmt: skip
def test_xj_requirements_per_requester_class(
    org_class: str, documents: set[str], approvals: set[str]
) -> None:
    needed = requirements(XJ, org_class, "copy", ON)
    assert needed.documents == documents and needed.approvals == approvals
    assert needed.min_persons == 2


def test_packs_combine_and_the_stricter_refusal_wins() -> None:
    both = requirements(BOTH, "police", "view", ON)
    assert "procedure_document" in both.documents and "unit_letter" in both.documents
    assert requirements(CN, "individual", "view", ON).documents == {
        "identity_document",
        "operator_consent",
    }
    with pytest.raises(RuleViolation) as refused:
        requirements(BOTH, "individual", "copy", ON)  # cn-2025 Art. 21: view only
    assert refused.value.article == "Art. 21"


def test_a_missing_document_is_refused_citing_the_article() -> None:
    docs = {"work_id": "a" * 64, "identity_document": "b" * 64}
    with pytest.raises(RuleViolation, match="letter of the requesting unit") as refused:
        check_documents(XJ, "police", "view", ON, docs)
    assert refused.value.article == "Art. 16 para 1"
    full = docs | {"unit_letter": "c" * 64, "own_agency_head": "d" * 64}
    check_documents(XJ, "police", "view", ON, full)
    with pytest.raises(RuleViolation, match="public security organ") as refused:
        check_documents(XJ, "other_unit", "view", ON, docs | {"unit_letter": "c" * 64})
    assert refused.value.article == "Art. 16 para 2"


def test_every_missing_document_and_approval_is_named_at_once_in_words() -> None:
    with pytest.raises(MissingDocuments) as refused:
        check_documents(XJ, "other_unit", "copy", ON, {"work_id": "a" * 64})
    err = refused.value
    assert err.kinds == ["identity_document", "unit_letter", "police_approval", "county_police"]
    message = err.message
    for words in (
        "identity document (Art. 17(1))",
        "letter of the requesting unit (Art. 17(2))",
        "approval document of the public security organ (Art. 17(2))",
        "approval of the county (city) police (Art. 16 para 2)",
    ):
        assert words in message
    assert "--document" not in message and "KIND=FILE" not in message and "\n" not in message
    assert err.article == "Art. 16 para 2" and err.rule == "access_approval"
    assert err.missing[0].words("zh") == "身份证件"


@pytest.mark.parametrize(
    ("packs", "org_class", "kinds"),
    [
        (XJ, "police", ["work_id", "identity_document", "unit_letter", "own_agency_head"]),
        (XJ, "emergency_response", ["work_id", "identity_document", "unit_letter"]),
        (XJ, "individual", ["identity_document", "police_approval", "county_police"]),
        (CN, "individual", ["identity_document", "operator_consent"]),
        (CN, "other_unit", None),
        (BOTH, "police", ["work_id", "identity_document", "unit_letter", "own_agency_head",
                          "procedure_document"]),
    ],
)  # fmt: skip
def test_each_class_needs_exactly_the_documents_of_the_packs(
    packs: PackSet, org_class: str, kinds: list[str] | None
) -> None:
    found = class_documents(packs, org_class, ON)
    assert (None if found is None else [d.kind for d in found]) == kinds
    if found:
        assert all(d.en and d.zh and d.cite for d in found)


@pytest.mark.parametrize(
    ("approver", "approver_doc"),
    [("alice", "650102199001011234"), ("alice2", "650102199001011234")],
)
def test_nobody_approves_their_own_request(approver: str, approver_doc: str) -> None:
    with pytest.raises(RuleViolation, match="own request"):
        check_approver("alice", approver, approver_doc, "650102199001011234")
    check_approver("alice", "bob", "650102198501015678", "650102199001011234")


def test_two_different_people_must_take_part() -> None:
    check_persons(XJ, ON, [("alice", "doc-a"), ("bob", "doc-b")])
    with pytest.raises(RuleViolation) as refused:
        check_persons(XJ, ON, [("alice", "doc-a"), ("alice2", "doc-a")])  # one person
    assert refused.value.article == "Art. 17(3)"
    with pytest.raises(RuleViolation):
        check_persons(XJ, ON, [("alice", "doc-a")])


GRANT = Grant(7, 3, check_scope("copy", ["cam1", "cam2"], T0, T0 + timedelta(hours=1)),
              expires_at=T0 + timedelta(days=7))  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "camera", "start", "end", "now", "why"),
    [
        ("view", "cam1", T0, T0 + timedelta(minutes=5), T0, None),
        ("copy", "cam2", T0, T0 + timedelta(hours=1), T0, None),
        ("retrieve", "cam1", T0, T0 + timedelta(minutes=5), T0, "allows copy"),
        ("view", "cam3", T0, T0 + timedelta(minutes=5), T0, "camera cam3"),
        ("view", "cam1", T0 - timedelta(seconds=1), T0 + timedelta(minutes=5), T0, "covers"),
        ("view", "cam1", T0, T0 + timedelta(hours=2), T0, "covers"),
        ("view", "cam1", T0, T0 + timedelta(minutes=5), T0 + timedelta(days=7), "expired"),
    ],
)
def test_a_grant_allows_only_its_scope(
    kind: str, camera: str, start: datetime, end: datetime, now: datetime, why: str | None
) -> None:
    if why is None:
        check_use(GRANT, kind, camera, start, end, now)
        return
    with pytest.raises(RuleViolation, match=why) as refused:
        check_use(GRANT, kind, camera, start, end, now)
    assert refused.value.article == "Art. 16"


def test_a_revoked_grant_allows_nothing() -> None:
    revoked = Grant(7, 3, GRANT.scope, GRANT.expires_at, revoked=True)
    with pytest.raises(RuleViolation, match="revoked"):
        check_use(revoked, "view", "cam1", T0, T0 + timedelta(minutes=1), T0)


@pytest.mark.parametrize(
    ("kind", "cameras", "start", "end"),
    [
        ("peek", ["cam1"], T0, T0 + timedelta(hours=1)),
        ("view", [], T0, T0 + timedelta(hours=1)),
        ("view", ["cam1"], T0, T0),
        ("view", ["cam1"], T0.replace(tzinfo=None), T0 + timedelta(hours=1)),
    ],
)
def test_malformed_scopes_are_refused(
    kind: str, cameras: list[str], start: datetime, end: datetime
) -> None:
    with pytest.raises(InvalidInput):
        check_scope(kind, cameras, start, end)
    with pytest.raises(InvalidInput):
        requirements(XJ, "aliens", "view", ON)
