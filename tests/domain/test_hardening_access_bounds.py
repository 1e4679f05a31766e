"""Issue 18, finding 10 as data and pure rules: both builtin packs carry an
``access_bounds`` rule (xj-2014 as marked operator policy under Art. 16, cn-2025 under
Art. 20's "necessary scope and limits"), the strictest in force wins, and the domain
refuses a range ending after now and a grant outliving the maximum."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from oversight.domain import access as rules
from oversight.errors import RuleViolation
from oversight.rules.layering import PackSet
from oversight.rules.loader import load_builtin
from oversight.rules.schema import AccessBoundsRule, RulePack

ON = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
ALLOW = timedelta(minutes=5)


def bounds_rule(pack: RulePack) -> AccessBoundsRule:
    [found] = [r for r in pack.rules if isinstance(r, AccessBoundsRule)]
    return found


def with_days(pack: RulePack, days: int) -> RulePack:
    data = pack.model_dump()
    for r in data["rules"]:
        if r["kind"] == "access_bounds":
            r["params"]["max_grant_days"] = days
    return RulePack.model_validate(data)


def test_both_packs_bound_grants_to_30_days_citing_their_article() -> None:
    xj, cn = bounds_rule(load_builtin("xj-2014")), bounds_rule(load_builtin("cn-2025"))
    assert (xj.cite, xj.basis, xj.params.max_grant_days) == ("Art. 16", "operator_policy", 30)
    assert "Operator policy" in xj.summary.en
    assert (cn.cite, cn.basis, cn.params.max_grant_days) == ("Art. 20", "regulation", 30)


def test_a_lifetime_below_one_day_is_not_a_valid_pack() -> None:
    with pytest.raises(ValidationError, match="max_grant_days"):
        with_days(load_builtin("xj-2014"), 0)


def test_the_strictest_bound_in_force_wins() -> None:
    xj, cn = load_builtin("xj-2014"), load_builtin("cn-2025")
    cn7 = with_days(cn, 7)
    bound = rules.bounds(PackSet([xj, cn7]), date(2026, 6, 1))
    assert bound.max_grant == timedelta(days=7) and bound.article == "Art. 20"
    first = rules.bounds(PackSet([xj, cn]), ON)  # a tie: the pack listed first
    assert first.article == "Art. 16" and "operator policy" in first.source


def test_a_range_ending_after_now_is_refused_beyond_the_allowance() -> None:
    bound = rules.bounds(PackSet([load_builtin("xj-2014")]), ON)
    rules.check_recorded(bound, NOW + ALLOW, NOW, ALLOW)
    with pytest.raises(RuleViolation, match="recorded footage only") as caught:
        rules.check_recorded(bound, NOW + ALLOW + timedelta(seconds=1), NOW, ALLOW)
    assert (caught.value.rule, caught.value.article) == ("access_bounds", "Art. 16")


def test_a_grant_outliving_the_maximum_is_refused() -> None:
    bound = rules.bounds(PackSet([load_builtin("cn-2025")]), ON)
    rules.check_lifetime(bound, timedelta(days=30))
    with pytest.raises(RuleViolation, match="at most 30 days, not 3650 days") as caught:
        rules.check_lifetime(bound, timedelta(days=3650))
    assert caught.value.article == "Art. 20"


def test_only_the_kinds_a_class_may_need_are_attachable() -> None:
    xj = PackSet([load_builtin("xj-2014")])
    assert rules.document_kinds(xj, "police", ON) == {
        "work_id",
        "identity_document",
        "unit_letter",
        "own_agency_head",
    }
    # cn-2025 gives other units no access at all: the packs refuse the class itself.
    assert rules.document_kinds(PackSet([load_builtin("cn-2025")]), "other_unit", ON) is None
