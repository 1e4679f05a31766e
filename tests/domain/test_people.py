"""People rules as pure functions: identities, permissions, back-off, the training gate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from oversight.domain import people as p
from oversight.domain.compliance import training_findings
from oversight.domain.people import Person, Training
from oversight.errors import InvalidInput, RuleViolation
from oversight.rules.layering import PackSet
from oversight.rules.loader import load_packs

XJ = PackSet(load_packs(["xj-2014"]))
BOTH = PackSet(load_packs(["xj-2014", "cn-2025"]))
CN = PackSet(load_packs(["cn-2025"]))
DAY = date(2026, 6, 1)
BOTH_TOPICS = ("confidentiality", "job_skills")


def trained(
    user: str = "u",
    on: date = date(2026, 1, 1),
    until: date = date(2026, 12, 31),
    topics: tuple[str, ...] = BOTH_TOPICS,
) -> Training:
    return Training(user, on, until, topics)


def person(*roles: str, trainings: tuple[Training, ...] = (), doc: str | None = None) -> Person:
    return Person("u", "U", roles, (), doc, False, trainings)


ADMIN = Person("boss", "Boss", ("admin",))
AUDITOR = Person("aud", "Aud", ("auditor",))


@pytest.mark.parametrize(
    ("doc", "masked"),
    [("650102199001011234", "****1234"), ("X1234567", "****4567"), ("ABCD", "****")],
)
def test_identity_documents_are_masked_to_the_last_four(doc: str, masked: str) -> None:
    assert p.mask_id_doc(doc) == masked


def test_identity_documents_are_normalised_and_never_echoed() -> None:
    assert p.normalise_id_doc(" 650102 19900101 123x ") == "65010219900101123X"
    with pytest.raises(InvalidInput) as err:
        p.normalise_id_doc("12#secret-number")
    assert "secret" not in str(err.value)
    assert "secret" not in repr(Person("a", "A", (), id_doc="SECRET1"))


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (Person("a", "A", (), id_doc="D1234"), Person("a", "A", ()), True),
        (Person("a", "A", (), id_doc="D1234"), Person("b", "B", (), id_doc="D1234"), True),
        (Person("a", "A", (), id_doc="D1234"), Person("b", "B", (), id_doc="D9999"), False),
        (Person("a", "A", ()), Person("b", "B", ()), False),
    ],
)
def test_same_person(a: Person, b: Person, same: bool) -> None:
    assert p.same_person(a, b) is same
    assert p.same_person(b, a) is same


def test_roles_and_passwords_are_validated() -> None:
    assert p.check_roles(["operator", "admin", "operator"]) == ("admin", "operator")
    with pytest.raises(InvalidInput, match="unknown role 'root'"):
        p.check_roles(["root"])
    p.check_password("x" * 12)
    with pytest.raises(InvalidInput, match="at least 12"):
        p.check_password("x" * 11)
    with pytest.raises(InvalidInput, match="white space"):
        p.check_password(" " + "x" * 12)


@pytest.mark.parametrize(
    ("failures", "delay"), [(0, 0.0), (1, 2.0), (2, 4.0), (3, 8.0), (4, 8.0), (9, 8.0)]
)
def test_login_delay_grows_then_caps(failures: int, delay: float) -> None:
    assert p.login_delay(failures) == delay


def test_lockout_after_five_failures() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert p.locked_until(4, now) is None
    assert p.locked_until(5, now) == now + timedelta(minutes=15)


def test_nobody_elevates_or_disables_themselves() -> None:
    # Who may manage accounts at all is the policy's (tests/domain/test_policy.py).
    with pytest.raises(p.PermissionDenied):
        p.check_may_change_roles(AUDITOR, AUDITOR.id)
    with pytest.raises(p.PermissionDenied, match="own roles"):
        p.check_may_change_roles(ADMIN, ADMIN.id)
    p.check_may_change_roles(ADMIN, "someone")
    p.check_may_set_password(AUDITOR, AUDITOR.id)
    with pytest.raises(p.PermissionDenied, match="own account"):
        p.check_may_disable(ADMIN, ADMIN)
    disabled = Person("x", "X", ("admin",), disabled=True)
    with pytest.raises(p.AuthenticationError, match="disabled"):
        p.check_may_set_password(disabled, disabled.id)


def test_topics_come_from_the_packs_with_aliases() -> None:
    known = p.known_topics(XJ)
    assert known == {"job_skills", "confidentiality"}
    assert p.normalise_topics(["skills", " Confidentiality"], known) == BOTH_TOPICS
    with pytest.raises(InvalidInput, match="unknown training topic 'cooking'"):
        p.normalise_topics(["cooking"], known)
    with pytest.raises(InvalidInput):
        p.normalise_topics([" "], known)


def test_training_dates() -> None:
    p.check_training_dates(date(2026, 1, 1), date(2026, 1, 1), DAY)
    with pytest.raises(InvalidInput, match="future"):
        p.check_training_dates(DAY + timedelta(days=1), DAY + timedelta(days=9), DAY)
    with pytest.raises(InvalidInput, match="precedes"):
        p.check_training_dates(date(2026, 2, 1), date(2026, 1, 1), DAY)


@pytest.mark.parametrize(
    ("trainings", "allowed"),
    [
        ((), False),
        ((trained(),), True),
        ((trained(topics=("job_skills",)),), False),
        # Two courses together cover both topics.
        ((trained(topics=("job_skills",)), trained(topics=("confidentiality",))), True),
        ((trained(until=DAY - timedelta(days=1)),), False),  # expired
        ((trained(on=DAY, until=DAY),), True),  # valid on its first and last day
        ((trained(on=DAY + timedelta(days=1)),), False),  # not yet
    ],
)
@pytest.mark.parametrize("role", ["operator", "custodian", "admin"])
def test_training_gate_for_gated_roles(
    trainings: tuple[Training, ...], allowed: bool, role: str
) -> None:
    candidate = person(trainings=trainings)
    if allowed:
        p.check_role_grant(candidate, [role], XJ, DAY)
        p.check_trained(candidate, XJ, DAY)
        return
    with pytest.raises(RuleViolation) as err:
        p.check_role_grant(candidate, [role], XJ, DAY)
    assert err.value.rule == "staff_training" and err.value.article == "Art. 14(2)"
    assert role in str(err.value) and "Art. 14(2)" in str(err.value)
    with pytest.raises(RuleViolation, match="may not take part"):
        p.check_trained(candidate, XJ, DAY)


@pytest.mark.parametrize("role", ["auditor", "requester"])
def test_other_roles_need_no_training(role: str) -> None:
    p.check_role_grant(person(), [role], XJ, DAY)


def test_the_article_comes_from_whichever_pack_is_configured() -> None:
    with pytest.raises(RuleViolation) as err:
        p.check_role_grant(person(), ["operator"], CN, DAY)
    assert err.value.article == "Art. 16 para 2(1)"
    # Before cn-2025 took effect, no training rule of it applies.
    p.check_role_grant(person(), ["operator"], CN, date(2025, 3, 31))


def test_a_pack_may_exempt_site_categories() -> None:
    # cn-2025 Art. 9 para 2: other public places are exempt from the staff training rule.
    p.check_role_grant(person(), ["operator"], CN, DAY, ["other_public_place"])
    with pytest.raises(RuleViolation):
        p.check_role_grant(person(), ["operator"], CN, DAY, ["other_public_place", "school"])


def test_expired_training_is_a_finding_with_article_and_penalty() -> None:
    expired = person("operator", trainings=(trained(until=date(2026, 3, 31)),))
    untrained = Person("v", "V", ("custodian",))
    fine = Person("w", "W", ("operator",), trainings=(trained("w"),))
    harmless = Person("x", "X", ("auditor",))
    gone = Person("y", "Y", ("operator",), disabled=True)
    people = [(q, None) for q in (expired, untrained, fine, harmless, gone)]
    findings = {f.subject: f for f in training_findings(people, XJ, DAY)}
    assert set(findings) == {"user:u", "user:v"}
    f = findings["user:u"]
    assert (f.rule, f.article, f.pack) == ("staff_training", "Art. 14(2)", "xj-2014")
    assert f.since == date(2026, 4, 1)
    assert "expired on 2026-03-31" in f.message and "operator" in f.message
    assert f.to_json()["penalty"] == {"min_cny": 200, "max_cny": 20000, "article": "Art. 20"}
    assert findings["user:v"].since is None
    both = training_findings([(untrained, None)], BOTH, DAY)
    assert [c.article for c in both[0].also] == ["Art. 16 para 2(1)"]
