"""Retention end to end on SQLite and PostgreSQL: keep-for floors, marks, holds, the
two-person release, the purge with its certificate, and refused manual deletion."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oversight import bootstrap
from oversight.config import Settings
from oversight.errors import StorageError
from oversight.services import purge, retention
from oversight.services.sealing import SealedSegment, seal_file
from tests.actors import HOST
from tests.conftest import Env

NOW = datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def deployment(initialised: Env, tmp_path: Path) -> tuple[Env, dict[str, SealedSegment]]:
    """Camera cam1 with four one-minute segments: three 40 days old, one 5 days old."""
    env = initialised
    env.ok("orgs", "add", "--id", "o", "--name", "O", "--kind", "owner")
    env.ok("sites", "add", "--id", "s", "--name", "S", "--category", "school", "--owner", "o")
    env.ok(
        "cameras", "add", "--id", "cam1", "--site", "s", "--placement", "general",
        "--coverage", "entrance", "--stream", "rtsp://127.0.0.1/cam1",
        "--commissioned", "2026-01-01",
    )  # fmt: skip
    system = bootstrap.build(Settings())
    segments = {}
    try:
        for name, age_days in [("old", 40), ("marked", 40.01), ("held", 40.02), ("recent", 5)]:
            path = tmp_path / f"{name}.mp4"
            path.write_bytes(os.urandom(2048))
            start = NOW - timedelta(days=age_days)
            segments[name] = seal_file(
                system, camera="cam1", path=path, start=start, end=start + timedelta(minutes=1)
            )
    finally:
        system.close()
    return env, segments


def _window(seg: SealedSegment) -> list[str]:
    return ["--from", _iso(seg.start), "--to", _iso(seg.end)]


def test_a_keep_for_below_the_legal_minimum_is_refused_and_nothing_written(
    initialised: Env,
) -> None:
    before = initialised.counts()
    result = initialised.fails("retention", "keep", "--days", "29")
    assert "Art. 14(5)" in result.output and result.output.count("\n") == 1
    assert initialised.counts() == before
    for days in ("0", "36501", "99999999999999"):  # a typo would break every plan later
        refused = initialised.fails("retention", "keep", "--days", days)
        assert refused.output == f"error: keep-for must be between 1 and 36500 days, got {days}\n"
    assert initialised.counts() == before
    initialised.ok("retention", "keep", "--days", "45")
    listed = json.loads(initialised.ok("retention", "list", "--json").output)
    assert listed["keep_for"][0]["scope"] == "*" and listed["keep_for"][0]["days"] == 45


def test_a_hold_is_released_only_by_a_second_person(
    deployment: tuple[Env, dict[str, SealedSegment]],
) -> None:
    env, segs = deployment
    env.monkeypatch.setenv("OVERSIGHT_ACTOR", "alice")
    env.ok("retention", "hold", "--camera", "cam1", *_window(segs["held"]), "--reason", "court")
    [hold] = json.loads(env.ok("retention", "list", "--json").output)["holds"]
    before = env.counts()
    result = env.fails("retention", "release", str(hold["id"]), "--reason", "case closed")
    assert "second person" in result.output
    assert env.counts() == before
    env.monkeypatch.setenv("OVERSIGHT_ACTOR", "bob")
    env.ok("retention", "release", str(hold["id"]), "--reason", "case closed")
    [hold] = json.loads(env.ok("retention", "list", "--json").output)["holds"]
    assert hold["released_by"] == "bob"
    env.fails("retention", "release", str(hold["id"]), "--reason", "again")


def test_the_purge_deletes_exactly_the_expired_segments_and_verify_agrees(
    deployment: tuple[Env, dict[str, SealedSegment]], tmp_path: Path
) -> None:
    env, segs = deployment
    env.ok("retention", "mark", "--camera", "cam1", *_window(segs["marked"]), "--reason", "riot")
    env.ok("retention", "hold", "--camera", "cam1", *_window(segs["held"]), "--reason", "court")

    planned = json.loads(env.ok("retention", "plan", "--json").output)
    assert [d["segment"] for d in planned["decisions"]] == [segs["old"].id]
    assert planned["expired_bytes"] == 2048 and planned["held"] == 1

    ran = json.loads(env.ok("retention", "run", "--json").output)
    assert ran["segments"] == 1 and ran["bytes"] == 2048
    store = env.data_dir / "store"
    assert not (store / segs["old"].storage_key).exists()
    for name in ("marked", "held", "recent"):
        assert (store / segs[name].storage_key).exists()

    report = json.loads(env.ok("verify", "--json").output)
    assert report["ok"] and report["segments_checked"] == 3

    cert = Path(ran["certificate"])
    data = json.loads(cert.read_text())
    [entry] = data["segments"]
    assert entry["storage_key"] == segs["old"].storage_key and entry["sha256"] == segs["old"].sha256
    assert data["ledger"]["first_leaf"] == data["ledger"]["last_leaf"] == entry["leaf_index"]
    assert "OK" in env.ok("retention", "certificate", "verify", str(cert)).output
    entry["sha256"] = "0" * 64
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data))
    result = env.fails("retention", "certificate", "verify", str(forged), code=1)
    assert "does not record the deletion" in result.output

    again = json.loads(env.ok("retention", "run", "--json").output)
    assert again["segments"] == 0 and again["certificate"] is None


def test_manual_deletion_within_retention_is_refused_citing_art_15_and_logged(
    deployment: tuple[Env, dict[str, SealedSegment]],
) -> None:
    env, segs = deployment
    leaves_before = env.counts()["ledger_leaves"]
    result = env.fails("segments", "delete", str(segs["recent"].id), "--reason", "disk full")
    assert "Art. 15(2)" in result.output and result.output.startswith("error: ")
    assert (env.data_dir / "store" / segs["recent"].storage_key).exists()
    counts = env.counts()
    assert counts["ledger_leaves"] == leaves_before + 1
    [refusal] = json.loads(env.ok("ledger", "list", "--kind", "retention", "--json").output)
    assert refusal["leaf"]["action"] == "delete.refused"

    env.ok("segments", "delete", str(segs["old"].id), "--reason", "expired, tidy up")
    assert not (env.data_dir / "store" / segs["old"].storage_key).exists()
    assert json.loads(env.ok("verify", "--json").output)["ok"]
    env.fails("segments", "delete", str(segs["old"].id), "--reason", "again")


def test_a_purge_interrupted_after_recording_finishes_on_the_next_run(
    deployment: tuple[Env, dict[str, SealedSegment]], monkeypatch: pytest.MonkeyPatch
) -> None:
    env, segs = deployment
    system = bootstrap.build(Settings())
    try:
        # Fault injection (the one thing a test cannot make a real disk do on demand):
        # the store fails right after the deletion was committed to the ledger.
        def broken_delete(keys: object) -> None:
            raise StorageError(f"simulated crash while removing {keys}")

        monkeypatch.setattr(system.store, "delete_many", broken_delete)
        with pytest.raises(StorageError):
            purge.run(system, HOST)
    finally:
        system.close()
    assert (env.data_dir / "store" / segs["old"].storage_key).exists()
    # Recorded as deleted, bytes still there: verify names the leftover.
    problems = json.loads(env.fails("verify", "--json", code=1).output)["problems"]
    # No mark or hold here: the three 40-day-old segments all expired.
    assert [p["kind"] for p in problems] == ["unexpected"] * 3
    ran = json.loads(env.ok("retention", "run", "--json").output)
    assert ran["resumed"] == 3 and ran["segments"] == 0
    assert not (env.data_dir / "store" / segs["old"].storage_key).exists()
    assert json.loads(env.ok("verify", "--json").output)["ok"]


def test_bad_ranges_and_unknown_cameras_are_one_line_errors(initialised: Env) -> None:
    before = initialised.counts()
    cases = [
        ["retention", "mark", "--camera", "nope", "--from", "2026-01-01T00:00:00Z",
         "--to", "2026-01-02T00:00:00Z", "--reason", "x"],
        ["retention", "hold", "--camera", "nope", "--from", "2026-01-02T00:00:00Z",
         "--to", "2026-01-01T00:00:00Z", "--reason", "x"],
        ["retention", "mark", "--camera", "nope", "--from", "yesterday",
         "--to", "2026-01-01T00:00:00Z", "--reason", "x"],
        ["retention", "plan", "--at", "2026-01-01"],
        ["retention", "release", "99", "--reason", "x"],
    ]  # fmt: skip
    for args in cases:
        result = initialised.fails(*args)
        assert result.output.startswith("error: ") and result.output.count("\n") == 1, args
    assert initialised.counts() == before


def test_footage_kept_past_a_pack_ceiling_is_a_finding_until_purged(
    deployment: tuple[Env, dict[str, SealedSegment]],
) -> None:
    env, _ = deployment

    def ceiling_findings() -> list[dict[str, object]]:
        report = json.loads(env.ok("compliance", "report", "--format", "json").output)
        return [f for f in report["findings"] if f["rule"] == "retention_ceiling"]

    assert ceiling_findings() == []  # xj-2014 alone sets no ceiling
    env.monkeypatch.setenv("OVERSIGHT_RULE_PACKS", "xj-2014,cn-2025")
    [finding] = ceiling_findings()
    assert finding["article"] == "Art. 17" and finding["subject"] == "camera:cam1"
    assert "3 segments" in str(finding["message"])
    env.ok("retention", "run")
    assert ceiling_findings() == []


def test_the_planner_reads_instants_to_the_microsecond_on_both_databases(
    system: bootstrap.System, tmp_path: Path
) -> None:
    # The database computes the epoch seconds (services.retention._epoch_sql); nothing of
    # a stored instant may be lost on the way, fractions of a second included.
    from tests.recorder.helpers import add_camera

    add_camera(system, "cam1", "rtsp://127.0.0.1/cam1")
    start = datetime(2026, 3, 1, 7, 59, 58, 123457, tzinfo=UTC)
    ends = [start + timedelta(seconds=59, microseconds=876543), start + timedelta(minutes=2)]
    for n, end in enumerate(ends):
        path = tmp_path / f"{n}.mp4"
        path.write_bytes(os.urandom(256))
        seal_file(system, camera="cam1", path=path, start=start + timedelta(minutes=n), end=end)
    with system.sessions() as session:
        infos = retention.live_segments(session)
    assert [(i.start, i.end) for i in infos] == [
        (start, ends[0]),
        (start + timedelta(minutes=1), ends[1]),
    ]
