"""Filing deadlines and compliance findings through the CLI."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from oversight import bootstrap
from oversight.config import Settings
from oversight.services import recording as rec
from tests.cli.test_registry_cli import TODAY, add_camera, seed
from tests.conftest import Env


def report(env: Env, at: date | None = None) -> dict:
    args = ["compliance", "report", "--format", "json"]
    if at is not None:
        args += ["--at", at.isoformat()]
    return json.loads(env.ok(*args).stdout)


def by_rule(rep: dict, rule: str) -> list[dict]:
    return [f for f in rep["findings"] if f["rule"] == rule]


def test_unfiled_camera_after_40_days_is_an_art_12_finding_with_penalty(initialised: Env) -> None:
    env = initialised
    seed(env)
    add_camera(env, "cam1", commissioned=TODAY - timedelta(days=40))
    rep = report(env)
    assert rep["pack"] == "xj-2014" and rep["at"] == TODAY.isoformat()
    (finding,) = by_rule(rep, "filing_commissioning")
    assert finding["article"].startswith("Art. 12")
    assert finding["subject"] == "camera:cam1"
    assert finding["penalty"]["min_cny"] == 200 and finding["penalty"]["max_cny"] == 1000
    assert finding["deadline"] == (TODAY - timedelta(days=10)).isoformat()
    assert set(finding) >= {"rule", "article", "subject", "message", "since", "deadline", "penalty"}

    env.ok(
        "filing",
        "record",
        "--camera",
        "cam1",
        "--kind",
        "commissioning",
        "--date",
        TODAY.isoformat(),
        "--receipt",
        "GA-2026-001",
        "--police-office",
        "County PSB",
    )
    assert by_rule(report(env), "filing_commissioning") == []


def test_filing_deadline_day_before_and_after(initialised: Env) -> None:
    env = initialised
    seed(env)
    commissioned = date(2026, 3, 1)
    add_camera(env, "cam1", commissioned=commissioned)
    due = commissioned + timedelta(days=30)
    assert by_rule(report(env, due), "filing_commissioning") == []
    assert len(by_rule(report(env, due + timedelta(days=1)), "filing_commissioning")) == 1
    listed = json.loads(env.ok("filing", "due", "--at", due.isoformat(), "--json").stdout)
    assert [(f["camera"], f["status"], f["due"], f["days_left"]) for f in listed["filings"]] == [
        ("cam1", "due", due.isoformat(), 0)
    ]
    late = json.loads(
        env.ok("filing", "due", "--at", (due + timedelta(days=1)).isoformat(), "--json").stdout
    )
    assert late["filings"][0]["status"] == "overdue"


def test_system_built_before_the_measures_files_within_60_days_of_them(initialised: Env) -> None:
    env = initialised
    seed(env)
    add_camera(env, "old", commissioned=date(2013, 6, 1))
    assert by_rule(report(env, date(2014, 8, 30)), "filing_commissioning") == []
    (f,) = by_rule(report(env, date(2014, 8, 31)), "filing_commissioning")
    assert f["deadline"] == "2014-08-30"
    # Before the measures took effect they impose nothing.
    assert by_rule(report(env, date(2014, 6, 30)), "filing_commissioning") == []


def test_removal_must_be_filed_within_30_days(initialised: Env) -> None:
    env = initialised
    seed(env)
    add_camera(env, "cam1", commissioned=date(2025, 1, 1))
    env.ok(
        "filing",
        "record",
        "--camera",
        "cam1",
        "--kind",
        "commissioning",
        "--date",
        "2025-01-10",
        "--receipt",
        "R1",
    )
    env.ok("cameras", "remove", "cam1", "--date", "2025-06-01")
    assert by_rule(report(env, date(2025, 7, 1)), "filing_removal") == []
    (f,) = by_rule(report(env, date(2025, 7, 2)), "filing_removal")
    assert f["article"].startswith("Art. 12") and f["penalty"]["max_cny"] == 1000
    env.ok(
        "filing",
        "record",
        "--camera",
        "cam1",
        "--kind",
        "removal",
        "--date",
        "2025-07-05",
        "--receipt",
        "R2",
    )
    assert by_rule(report(env, date(2025, 7, 6)), "filing_removal") == []


def recording(*cameras: str) -> None:
    """What the recorder writes while it records ``cameras`` (a fresh status row)."""
    system = bootstrap.build(Settings())
    try:
        now = system.clock.now()
        for camera in cameras:
            rec.set_status(system, camera, state="recording", since=now, last_segment_at=now)
    finally:
        system.close()


def test_missing_coverage_points_are_art_7_findings(initialised: Env) -> None:
    env = initialised
    seed(env)
    add_camera(env, "cam1", coverage="entrance")
    recording("cam1")
    found = by_rule(report(env), "coverage_required")
    assert sorted(f["message"].split("required ")[1] for f in found) == ["key part", "main passage"]
    assert all(
        f["article"].startswith("Art. 7") and f["penalty"]["max_cny"] == 30000 for f in found
    )
    add_camera(env, "cam2", coverage="main_passage")
    add_camera(env, "cam3", coverage="key_part")
    # Registered is not recording (issue 22): the points stay uncovered until they record.
    assert len(by_rule(report(env), "coverage_required")) == 2
    recording("cam2", "cam3")
    assert by_rule(report(env), "coverage_required") == []


def test_obstruction_is_a_finding_until_resolved(initialised: Env) -> None:
    env = initialised
    seed(env)
    add_camera(env, "cam1")
    env.ok(
        "obstructions",
        "report",
        "--camera",
        "cam1",
        "--cause",
        "advert",
        "--date",
        TODAY.isoformat(),
        "--responsible",
        "BillboardCo",
    )
    (f,) = by_rule(report(env), "obstruction")
    assert f["article"] == "Art. 13" and "BillboardCo" in f["message"]
    listed = json.loads(env.ok("obstructions", "list", "--json").stdout)
    env.ok("obstructions", "resolve", str(listed[0]["id"]), "--date", TODAY.isoformat())
    assert by_rule(report(env), "obstruction") == []
    assert (
        "unknown cause"
        in env.fails(
            "obstructions",
            "report",
            "--camera",
            "cam1",
            "--cause",
            "ghost",
            "--date",
            TODAY.isoformat(),
        ).stderr
    )


def test_unqualified_installer_is_a_finding(initialised: Env) -> None:
    env = initialised
    seed(env)
    env.ok(
        "orgs",
        "add",
        "--id",
        "cheap",
        "--name",
        "Cheap Installs",
        "--kind",
        "installer",
        "--qualification",
        "OLD-1",
        "--qualification-expires",
        "2024-01-01",
    )
    env.ok(
        "cameras",
        "add",
        "--id",
        "c1",
        "--site",
        "s1",
        "--placement",
        "general",
        "--coverage",
        "entrance",
        "--stream",
        "rtsp://127.0.0.1/c1",
        "--commissioned",
        "2024-02-01",
        "--installer",
        "cheap",
    )
    (f,) = by_rule(report(env), "installer_qualified")
    assert f["article"] == "Art. 11" and f["penalty"] is None and "expired" in f["message"]


def test_layered_packs_refuse_what_either_prohibits(initialised: Env) -> None:
    env = initialised
    seed(env)
    env.monkeypatch.setenv("OVERSIGHT_RULE_PACKS", "xj-2014,cn-2025")
    result = env.fails(
        "cameras",
        "add",
        "--id",
        "r1",
        "--site",
        "s1",
        "--placement",
        "restaurant_private_room",
        "--coverage",
        "key_part",
        "--stream",
        "rtsp://127.0.0.1/r1",
        "--commissioned",
        TODAY.isoformat(),
    )
    assert "Art. 8" in result.stderr
    env.monkeypatch.setenv("OVERSIGHT_RULE_PACKS", "xj-2014")
    assert (
        "unknown placement"
        in env.fails(
            "cameras",
            "add",
            "--id",
            "r1",
            "--site",
            "s1",
            "--placement",
            "restaurant_private_room",
            "--coverage",
            "key_part",
            "--stream",
            "rtsp://127.0.0.1/r1",
            "--commissioned",
            TODAY.isoformat(),
        ).stderr
    )
    env.monkeypatch.setenv("OVERSIGHT_RULE_PACKS", "xj-2014,nowhere-1999")
    assert "unknown rule pack" in env.fails("compliance", "report").stderr


def test_report_formats(initialised: Env) -> None:
    env = initialised
    seed(env)
    add_camera(env, "cam1", commissioned=TODAY - timedelta(days=40))
    text = env.ok("compliance", "report").stdout
    assert "filing_commissioning" not in text and "Art. 12" in text
    # styles, never markup printed as text (the CLI's consoles take no markup: issue 18)
    assert "Compliance report" in text and "[bold]" not in text and "[/]" not in text
    html = env.ok("compliance", "report", "--format", "html").stdout
    assert html.startswith("<!doctype html>") and "cam1" in html and "Art. 12" in html
    assert "--format" in env.fails("compliance", "report", "--format", "pdf").stderr
    assert "not an ISO 8601 date" in env.fails("compliance", "report", "--at", "soon").stderr


def test_filing_form(initialised: Env, tmp_path: Path) -> None:
    env = initialised
    seed(env)
    add_camera(env, "cam1", commissioned=TODAY - timedelta(days=5))
    out = tmp_path / "form.html"
    env.ok("filing", "form", "s1", "--out", str(out))
    html = out.read_text(encoding="utf-8")
    for needle in (
        "No. 1 School",
        "Acme School",
        "cam1",
        "SafeInstall",
        "XJ-AF-001",
        (TODAY + timedelta(days=25)).isoformat(),
        "备案",
    ):
        assert needle in html
    assert "s3cret" not in html
    assert "does not exist" in env.fails("filing", "form", "nosuch", "--out", str(out)).stderr


def test_bad_filing_input_writes_nothing(initialised: Env) -> None:
    env = initialised
    seed(env)
    add_camera(env, "cam1", commissioned=TODAY - timedelta(days=5))
    before = env.counts()
    for args, message in [
        (["--kind", "renewal", "--date", TODAY.isoformat()], "unknown filing kind"),
        (["--kind", "removal", "--date", TODAY.isoformat()], "has not been removed"),
        (["--kind", "commissioning", "--date", "2001-01-01"], "precedes the commissioning"),
        (["--kind", "commissioning", "--date", "01.01.2026"], "not an ISO 8601 date"),
    ]:
        result = env.fails("filing", "record", "--camera", "cam1", "--receipt", "R", *args)
        assert message in result.stderr
    assert env.counts() == before
