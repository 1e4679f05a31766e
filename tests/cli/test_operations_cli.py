"""Alarms, maintenance and incident reports through the CLI, on SQLite and PostgreSQL:
logins and roles, JSON lists, one-line refusals with exit 2 that write nothing, the
webhook on a real local HTTP server, the printable report, and the findings."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from oversight import bootstrap
from oversight.config import Settings
from oversight.services import people
from tests.cli.test_registry_cli import add_camera, seed
from tests.cli.test_users_cli import ADMIN_PW, PW, TODAY, login, one_line, run
from tests.conftest import Env
from tests.services.test_alarms import Receiver


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        people, "hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def deployment(env: Env) -> Env:
    """Admin boss; operator op and custodian cust (trained); requester cop; site s1 with
    cameras cam1 and cam2, commissioned 100 days ago."""
    run(
        env,
        "init",
        "--admin-id",
        "boss",
        "--admin-password-stdin",
        "--admin-id-doc",
        "BOSS0001",
        input=ADMIN_PW + "\n",
    )
    system = bootstrap.build(Settings())
    try:
        boss = people.person_by_id(system, "boss")
        for uid, role in [("op", "operator"), ("cust", "custodian"), ("cop", "requester")]:
            people.add_user(
                system,
                boss,
                user_id=uid,
                name=uid.title(),
                roles=[],
                id_doc=f"{uid.upper()}0001",
                password=PW,
            )
            people.record_training(
                system,
                boss,
                user_id=uid,
                trained_on=TODAY - timedelta(days=10),
                valid_until=date(TODAY.year + 1, 12, 31),
                topics=["skills", "confidentiality"],
            )
            people.grant_role(system, boss, uid, role)
    finally:
        system.close()
    seed(env)
    for cam in ("cam1", "cam2"):
        add_camera(env, cam, commissioned=TODAY - timedelta(days=100))
    return env


def findings(env: Env, rule: str, at: date | None = None) -> list[dict]:
    args = ["compliance", "report", "--format", "json"]
    if at is not None:
        args += ["--at", at.isoformat()]
    return [f for f in json.loads(env.ok(*args).stdout)["findings"] if f["rule"] == rule]


def test_alarms_raise_ack_clear_with_webhook(deployment: Env) -> None:
    env = deployment
    receiver = Receiver()
    env.monkeypatch.setenv("OVERSIGHT_ALARM_WEBHOOK_URL", receiver.url)
    try:
        result = run(
            env, "alarms", "raise", "--camera", "cam1", "--kind", "covered", "--detail", "x", code=2
        )
        assert "log in first" in one_line(result)
        login(env, "cop", PW)
        result = run(
            env, "alarms", "raise", "--camera", "cam1", "--kind", "covered", "--detail", "x", code=2
        )
        assert one_line(result).startswith("error:")
        login(env, "op", PW)
        before = env.counts()
        result = run(
            env, "alarms", "raise", "--camera", "cam1", "--kind", "smoke", "--detail", "x", code=2
        )
        assert "unknown alarm kind 'smoke'" in one_line(result)
        assert env.counts() == before

        alarm_id = env.ok(
            "alarms", "raise", "--camera", "cam1", "--kind", "covered", "--detail", "lens taped"
        ).stdout.strip()
        again = env.ok(
            "alarms", "raise", "--camera", "cam1", "--kind", "covered", "--detail", "still"
        ).stdout.strip()
        assert again == alarm_id
        assert [b["id"] for b in receiver.bodies] == [int(alarm_id)]  # delivered before exit
        [listed] = json.loads(env.ok("alarms", "list", "--open", "--json").stdout)
        assert listed["seen"] == 2 and listed["acknowledged"] is None

        login(env, "cust", PW)
        env.ok("alarms", "ack", alarm_id, "--note", "guard sent")
        result = run(env, "alarms", "ack", alarm_id, code=2)
        assert "acknowledged already by cust" in one_line(result)
        shown = json.loads(env.ok("alarms", "show", alarm_id).stdout)
        assert (
            shown["acknowledged"]["by"] == "cust" and shown["acknowledged"]["note"] == "guard sent"
        )
        assert "cam1" in env.ok("alarms", "list").stdout

        env.ok("alarms", "clear", "--camera", "cam1", "--kind", "covered")
        assert json.loads(env.ok("alarms", "list", "--open", "--json").stdout) == []
        assert (
            "No open covered alarm"
            in env.ok("alarms", "clear", "--camera", "cam1", "--kind", "covered").stdout
        )
        assert [b["event"] for b in receiver.bodies] == ["alarm.raise", "alarm.clear"]
        health = json.loads(env.ok("ledger", "list", "--kind", "health", "--json").stdout)
        assert [leaf["leaf"]["action"] for leaf in health] == [
            "alarm.raise",
            "alarm.ack",
            "alarm.clear",
        ]
    finally:
        receiver.close()


def test_maintenance_commands_and_findings(deployment: Env, tmp_path: Path) -> None:
    env = deployment
    # No schedule and no procedure: both findings (defaults from the pack), with article.
    [overdue] = findings(env, "inspections")
    [no_plan] = findings(env, "emergency_procedures")
    assert overdue["article"] == no_plan["article"] == "Art. 14(1)"
    assert overdue["penalty"]["article"] == "Art. 20"

    login(env, "cust", PW)  # custodians do not record maintenance
    before = env.counts()
    result = run(env, "maintenance", "inspect", "--site", "s1", "--result", "ok", code=2)
    assert one_line(result).startswith("error:")
    assert env.counts() == before
    login(env, "op", PW)
    before = env.counts()
    for args, message in [
        (("schedule", "--site", "s1", "--every", "400"), "Art. 14(1)"),
        (("schedule", "--site", "s1", "--every", "0"), "between 1 and 36500 days"),
        (("schedule", "--site", "s1", "--every", "99999999999999"), "between 1 and 36500"),
        (("schedule", "--every", "30"), "exactly one of --site and --camera"),
        (("inspect", "--site", "s1", "--result", "failed"), "--notes must not be empty"),
        (("inspect", "--site", "s1", "--result", "ok", "--date", "2026-13-01"), "YYYY-MM-DD"),
        (("procedure", "--site", "s1", "--title", "Plan"), "--text or a --document"),
        (
            ("procedure", "--site", "s1", "--title", "P", "--document", "/nonexistent"),
            "cannot read",
        ),
        (("repair", "--camera", "cam9", "--description", "x"), "camera 'cam9'"),
    ]:
        result = run(env, "maintenance", *args, code=2)
        assert message in one_line(result), (args, result.stderr)
    assert env.counts() == before

    env.ok("maintenance", "schedule", "--site", "s1", "--every", "30")
    inspection = env.ok(
        "maintenance", "inspect", "--site", "s1", "--result", "defects", "--notes", "cam2 dirty"
    ).stdout.strip()
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(b"%PDF-1.4 emergency plan\n")
    env.ok(
        "maintenance",
        "procedure",
        "--site",
        "s1",
        "--title",
        "Emergency plan",
        "--document",
        str(plan),
    )
    env.ok("maintenance", "repair", "--camera", "cam2", "--description", "cleaned housing")
    assert findings(env, "inspections") == [] and findings(env, "emergency_procedures") == []
    [late] = findings(env, "inspections", TODAY + timedelta(days=31))
    assert (
        late["subject"] == "site:s1"
        and late["deadline"] == (TODAY + timedelta(days=30)).isoformat()
    )

    listed = json.loads(env.ok("maintenance", "list", "--json").stdout)
    assert listed["inspections"][0]["id"] == int(inspection)
    assert listed["inspections"][0]["inspector"] == "op"
    assert listed["procedures"][0]["filename"] == "plan.pdf"
    assert listed["due"][0]["due"] == (TODAY + timedelta(days=30)).isoformat()
    assert "Emergency plan" in env.ok("maintenance", "list").stdout


def test_incident_report_and_print(deployment: Env, tmp_path: Path) -> None:
    env = deployment
    start, end = "2026-01-01T08:00:00Z", "2026-01-01T08:10:00Z"
    base = ("incidents", "report", "--cameras", "cam1,cam2", "--from", start, "--to", end)
    login(env, "cust", PW)
    before = env.counts()
    result = run(env, *base, "--description", "bag", code=2)
    assert one_line(result).startswith("error:")
    assert env.counts() == before
    login(env, "op", PW)
    before = env.counts()
    for args, message in [
        (("--description", "bag", "--category", "rumour"), "unknown incident category"),
        (("--description", " "), "--description must not be empty"),
    ]:
        assert message in one_line(run(env, *base, *args, code=2))
    result = run(
        env,
        "incidents",
        "report",
        "--cameras",
        "cam1",
        "--from",
        end,
        "--to",
        start,
        "--description",
        "bag",
        code=2,
    )
    assert "before it starts" in one_line(result)
    assert env.counts() == before

    rec = json.loads(env.ok(*base, "--description", "unattended bag", "--json").stdout)
    assert rec["cameras"] == ["cam1", "cam2"] and len(rec["marks"]) == 2
    marks = json.loads(env.ok("retention", "list", "--json").stdout)
    assert len(marks["marks"]) == 2
    [listed] = json.loads(env.ok("incidents", "list", "--camera", "cam2", "--json").stdout)
    assert listed["id"] == rec["id"]
    assert json.loads(env.ok("incidents", "show", str(rec["id"])).stdout)["description"] == (
        "unattended bag"
    )
    html = env.ok("incidents", "print", str(rec["id"])).stdout
    assert "Art. 14(4)" in html and "unattended bag" in html
    out = tmp_path / "report.html"
    env.ok("incidents", "print", str(rec["id"]), "--out", str(out))
    assert "Art. 14(4)" in out.read_text(encoding="utf-8")
    assert "exists already" in one_line(
        run(env, "incidents", "print", str(rec["id"]), "--out", str(out), code=2)
    )
    assert "not exist" in one_line(run(env, "incidents", "show", "99", code=2))
