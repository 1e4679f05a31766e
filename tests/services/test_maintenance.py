"""Maintenance (Art. 14(1)) on SQLite and PostgreSQL: schedules, inspections, emergency
procedures (text or a stored document), repairs, their ``operations`` leaves, the
findings for an overdue inspection and a site without a procedure, and refusals that
write nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from oversight import bootstrap
from oversight.clock import FixedClock
from oversight.domain.people import PermissionDenied, Person
from oversight.errors import InvalidInput, NotFound, RuleViolation
from oversight.rules.loader import load_packs
from oversight.rules.schema import InspectionIntervalRule, ProcedureRequiredRule
from oversight.services import alarms, compliance, maintenance
from tests.conftest import Env
from tests.services.test_alarms import (
    NOW,
    add_person,
    add_site_and_cameras,
    build,
)
from tests.services.test_alarms import clock as clock
from tests.services.test_alarms import fast_hashes as fast_hashes
from tests.services.test_people import leaves_of

TODAY = date(2026, 6, 1)  # NOW in Asia/Shanghai


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
    add_site_and_cameras(sys_, "cam1", "cam2", commissioned=TODAY - timedelta(days=200))
    return {
        "boss": boss,
        "op": add_person(sys_, boss, "op", "operator"),
        "cust": add_person(sys_, boss, "cust", "custodian"),
    }


def _findings(system: bootstrap.System, rule: str, at: date | None = None) -> list[dict[str, Any]]:
    report = compliance.report(system, at).to_json()
    return [f for f in report["findings"] if f["rule"] == rule]


def test_pack_rules_carry_their_articles() -> None:
    [xj, cn] = load_packs(["xj-2014", "cn-2025"])
    for pack, article in ((xj, "Art. 14(1)"), (cn, "Art. 15 para 1")):
        [insp] = [r for r in pack.rules if isinstance(r, InspectionIntervalRule)]
        [proc] = [r for r in pack.rules if isinstance(r, ProcedureRequiredRule)]
        assert insp.cite == proc.cite == article
        assert insp.params.default_interval_days <= insp.params.max_interval_days


def test_overdue_inspection_is_a_finding_until_inspected(
    sys_: bootstrap.System, cast: dict[str, Person], clock: FixedClock
) -> None:
    # No schedule: the pack's default (90 days from the first camera) applies.
    [default] = _findings(sys_, "inspections")
    assert default["article"] == "Art. 14(1)" and default["subject"] == "site:s1"
    assert default["penalty"] == {"min_cny": 200, "max_cny": 20000, "article": "Art. 20"}
    assert default["deadline"] == (TODAY - timedelta(days=110)).isoformat()
    assert "no schedule on file" in default["message"]

    sched = maintenance.set_schedule(sys_, cast["op"], site="s1", interval_days=30)
    assert (sched.scope, sched.interval_days, sched.starts_on) == ("site:s1", 30, TODAY)
    assert _findings(sys_, "inspections") == []  # a new schedule runs from today
    later = TODAY + timedelta(days=31)
    [late] = _findings(sys_, "inspections", later)
    assert late["deadline"] == (TODAY + timedelta(days=30)).isoformat()
    assert "scheduled every 30 days; never inspected" in late["message"]

    clock.set(NOW + timedelta(days=20))
    done = maintenance.record_inspection(
        sys_, cast["op"], site="s1", result="defects", notes="cam2 housing cracked"
    )
    assert (done.inspector, done.result, done.on) == ("op", "defects", TODAY + timedelta(days=20))
    assert _findings(sys_, "inspections", later) == []
    assert _findings(sys_, "inspections", TODAY + timedelta(days=51))

    # A camera's own schedule: only an inspection of that camera (or the site) counts.
    maintenance.set_schedule(sys_, cast["op"], camera="cam2", interval_days=7)
    clock.set(NOW + timedelta(days=28))
    [cam] = _findings(sys_, "inspections")
    assert cam["subject"] == "camera:cam2"
    maintenance.record_inspection(sys_, cast["op"], camera="cam2", result="ok")
    assert _findings(sys_, "inspections") == []

    actions = [leaf["action"] for leaf in leaves_of(sys_, "operations")]
    assert actions == [
        "inspection.schedule",
        "inspection.record",
        "inspection.schedule",
        "inspection.record",
    ]
    overview = maintenance.overview(sys_, site="s1").to_json()
    assert [s["scope"] for s in overview["schedules"]] == ["camera:cam2", "site:s1"]
    assert len(overview["inspections"]) == 2 and overview["due"]


def test_site_without_emergency_procedure_is_a_finding(
    sys_: bootstrap.System, cast: dict[str, Person], tmp_path: Any
) -> None:
    [missing] = _findings(sys_, "emergency_procedures")
    assert missing["article"] == "Art. 14(1)" and missing["subject"] == "site:s1"
    assert missing["deadline"] == (TODAY - timedelta(days=170)).isoformat()

    # A new site is not due yet (30 days' grace).
    add_site_and_cameras(sys_, "cam9", site="s2")
    assert [f["subject"] for f in _findings(sys_, "emergency_procedures")] == ["site:s1"]
    assert "site:s2" in {
        f["subject"] for f in _findings(sys_, "emergency_procedures", TODAY + timedelta(days=31))
    }

    pdf = b"%PDF-1.4 emergency plan: power loss, intrusion, fire\n"
    proc = maintenance.add_procedure(
        sys_, cast["op"], site="s1", title="Emergency plan 2026", document=pdf, filename="plan.pdf"
    )
    digest = hashlib.sha256(pdf).hexdigest()
    assert proc.document_sha256 == digest and not proc.has_text
    stored = sys_.settings.data_dir / "documents" / digest
    assert stored.read_bytes() == pdf
    assert maintenance.procedure_content(sys_, proc.id)[2] == pdf
    maintenance.add_procedure(sys_, cast["boss"], site="s2", title="Plan", text="Call 110 first.")
    assert _findings(sys_, "emergency_procedures", TODAY + timedelta(days=31)) == []
    [leaf, _] = [x for x in leaves_of(sys_, "operations") if x["action"] == "procedure.add"]
    assert leaf["subject"] == "site:s1" and leaf["details"]["document_sha256"] == digest


def test_repair_for_an_alarm(sys_: bootstrap.System, cast: dict[str, Person]) -> None:
    alarm = alarms.raise_alarm(sys_, camera="cam1", kind="defocused", detail="sharpness 0.1")
    repair = maintenance.record_repair(
        sys_, cast["op"], camera="cam1", description="refocused lens", alarm_id=alarm.id
    )
    assert (repair.camera, repair.alarm_id, repair.on) == ("cam1", alarm.id, TODAY)
    [leaf] = [x for x in leaves_of(sys_, "operations") if x["action"] == "repair.record"]
    assert leaf["subject"] == "camera:cam1" and leaf["details"]["alarm"] == str(alarm.id)
    assert maintenance.overview(sys_).repairs == [repair]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda s, p: maintenance.set_schedule(s, p, site="s1", interval_days=400),
            RuleViolation,
            "180 days",
        ),
        (
            lambda s, p: maintenance.set_schedule(s, p, site="s1", interval_days=0),
            InvalidInput,
            "between 1 and 36500 days",
        ),
        (
            lambda s, p: maintenance.set_schedule(s, p, interval_days=30),
            InvalidInput,
            "exactly one",
        ),
        (
            lambda s, p: maintenance.set_schedule(s, p, site="zz", interval_days=30),
            NotFound,
            "site 'zz'",
        ),
        (
            lambda s, p: maintenance.record_inspection(s, p, site="s1", result="meh"),
            InvalidInput,
            "result",
        ),
        (
            lambda s, p: maintenance.record_inspection(s, p, site="s1", result="failed"),
            InvalidInput,
            "--notes",
        ),
        (
            lambda s, p: maintenance.record_inspection(
                s, p, site="s1", result="ok", on=TODAY + timedelta(days=1)
            ),
            InvalidInput,
            "future",
        ),
        (
            lambda s, p: maintenance.add_procedure(s, p, site="s1", title="Plan"),
            InvalidInput,
            "--text",
        ),
        (
            lambda s, p: maintenance.add_procedure(s, p, site="s1", title=" ", text="x"),
            InvalidInput,
            "--title",
        ),
        (
            lambda s, p: maintenance.add_procedure(s, p, site="zz", title="Plan", document=b"x"),
            NotFound,
            "site 'zz'",
        ),
        (
            lambda s, p: maintenance.record_repair(s, p, camera="cam1", description=""),
            InvalidInput,
            "--description",
        ),
        (
            lambda s, p: maintenance.record_repair(
                s, p, camera="cam1", description="x", alarm_id=42
            ),
            NotFound,
            "alarm 42",
        ),
    ],
)
def test_refused_input_writes_nothing(
    initialised: Env,
    sys_: bootstrap.System,
    cast: dict[str, Person],
    call: Any,
    error: type[Exception],
    message: str,
) -> None:
    before = initialised.counts()
    documents = sys_.settings.data_dir / "documents"
    files = sorted(documents.iterdir()) if documents.exists() else []
    with pytest.raises(error, match=message):
        call(sys_, cast["op"])
    assert initialised.counts() == before
    assert (sorted(documents.iterdir()) if documents.exists() else []) == files


def test_only_operators_and_admins_record_maintenance(
    initialised: Env, sys_: bootstrap.System, cast: dict[str, Person]
) -> None:
    before = initialised.counts()
    with pytest.raises(PermissionDenied):
        maintenance.record_inspection(sys_, cast["cust"], site="s1", result="ok")
    with pytest.raises(PermissionDenied):
        maintenance.add_procedure(sys_, cast["cust"], site="s1", title="Plan", document=b"x")
    assert initialised.counts() == before
    assert not (sys_.settings.data_dir / "documents").exists()
