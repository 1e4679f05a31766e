"""/api/v1 recordings: segments (metadata only), gaps, status, coverage; filings and
the compliance report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from oversight.services import recording
from tests.actors import HOST
from tests.web.api_data import SEGMENT, recent_start, sealed_camera
from tests.web.conftest import Web


def test_segments_are_listed_as_metadata_with_filters_and_limit(web: Web, tmp_path: Path) -> None:
    sealed = sealed_camera(web.system, tmp_path, count=3)
    api = web.api("op")
    reply = api.get("/api/v1/segments", params={"camera": "cam1"})
    assert reply.status_code == 200
    rows = reply.json()
    assert [r["id"] for r in rows] == [s.id for s in sealed]
    assert set(rows[0]) >= {"camera", "start", "end", "size", "sha256", "leaf_index"}
    assert "segment cam1" not in reply.text  # never the bytes
    t1 = (recent_start() + SEGMENT + timedelta(seconds=1)).isoformat()
    later = api.get("/api/v1/segments", params={"camera": "cam1", "from": t1}).json()
    assert [r["id"] for r in later] == [s.id for s in sealed[1:]]
    assert len(api.get("/api/v1/segments", params={"limit": 1}).json()) == 1


def test_a_window_from_year_one_lists_every_segment(web: Web, tmp_path: Path) -> None:
    # Found by the fuzzer: the overlap bound (start minus the longest segment) fell
    # before datetime's year 1 and the request ended in a 500. The API now refuses
    # instants that close to the calendar's ends; the service lists them all.
    sealed = sealed_camera(web.system, tmp_path, count=2)
    year_one = datetime(1, 1, 1, tzinfo=UTC)
    listed = recording.list_segments(web.system, HOST, start=year_one)
    assert [r.id for r in listed] == [s.id for s in sealed]
    api = web.api("op")
    for params in ({"from": "0001-01-01T00:00:00Z"}, {"to": "9999-12-31T23:59:59+08:00"}):
        reply = api.get("/api/v1/segments", params=params)
        assert reply.status_code == 400 and "is out of range" in reply.json()["error"]
    reply = api.get("/api/v1/compliance", params={"day": "9999-12-31"})
    assert reply.status_code == 422 and "out of range" in reply.text


def test_a_time_without_a_zone_is_a_400_naming_the_parameter(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    api = web.api("op")
    reply = api.get("/api/v1/segments", params={"from": "2026-01-01T00:00:00"})
    assert reply.status_code == 400 and "from needs a time zone" in reply.json()["error"]
    reply = api.get(
        "/api/v1/cameras/cam1/coverage",
        params={"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00"},
    )
    assert reply.status_code == 400 and "to needs a time zone" in reply.json()["error"]
    assert api.get("/api/v1/segments", params={"limit": 0}).status_code == 422
    assert api.get("/api/v1/segments", params={"camera": "nope"}).status_code == 404


def test_coverage_merges_adjacent_segments_into_one_span(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=3)
    t0 = recent_start()
    params = {"from": (t0 - SEGMENT).isoformat(), "to": (t0 + 5 * SEGMENT).isoformat()}
    reply = web.api("aud").get("/api/v1/cameras/cam1/coverage", params=params)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["segments"] == 3 and len(body["recorded"]) == 1
    assert body["recorded_seconds"] == 180.0
    backwards = {"from": params["to"], "to": params["from"]}
    assert web.api("aud").get("/api/v1/cameras/cam1/coverage", params=backwards).status_code == 400


def test_gaps_and_status_are_listed(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    t0 = recent_start()
    recording.record_gap(
        web.system, camera="cam1", start=t0 + SEGMENT, end=t0 + 2 * SEGMENT, reason="offline"
    )
    api = web.api("cust")
    gaps = api.get("/api/v1/gaps", params={"camera": "cam1"}).json()
    # A custodian reads the plain reason, not the recorder's words (issue 22, item 9).
    assert [(g["reason"], g["reason_raw"]) for g in gaps] == [("other", None)]
    status = api.get("/api/v1/status").json()
    assert status == [
        {
            "camera": "cam1",
            "state": "never recorded",
            "since": None,
            "last_segment_at": None,
            "last_error": None,
            "last_error_raw": None,
            "updated_at": None,
        }
    ]


def test_recordings_are_refused_to_people_without_a_staff_role(web: Web) -> None:
    for path in ("/api/v1/segments", "/api/v1/gaps", "/api/v1/status", "/api/v1/compliance"):
        assert web.api("cop").get(path).status_code == 403, path


def test_filings_due_record_and_form(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    api = web.api("op")
    due = api.get("/api/v1/filings/due").json()
    assert [(f["camera"], f["kind"]) for f in due["filings"]] == [("cam1", "commissioning")]
    assert due["filings"][0]["article"]
    today = due["at"]
    reply = api.post(
        "/api/v1/filings",
        json={"camera_id": "cam1", "kind": "commissioning", "filed_on": today, "receipt": "R-1"},
    )
    assert reply.status_code == 201, reply.text
    assert api.get("/api/v1/filings/due").json()["filings"] == []
    form = api.get("/api/v1/cameras/cam1/filing-form")
    assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
    assert "cam1" in form.text
    assert api.get("/api/v1/cameras/nope/filing-form").status_code == 404


def test_a_refused_filing_writes_nothing(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    api, auditor = web.api("op"), web.api("aud")
    before = web.env.counts()
    removal = {"camera_id": "cam1", "kind": "removal", "filed_on": "2026-01-01", "receipt": "R"}
    reply = api.post("/api/v1/filings", json=removal)
    assert reply.status_code == 400 and "has not been removed" in reply.json()["error"]
    bad_kind = api.post("/api/v1/filings", json={**removal, "kind": "other"})
    assert bad_kind.status_code == 422 and bad_kind.json()["error"].startswith("kind:")
    assert auditor.post("/api/v1/filings", json=removal).status_code == 403
    assert web.env.counts() == before


def test_compliance_lists_findings_with_articles(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    reply = web.api("aud").get("/api/v1/compliance")
    assert reply.status_code == 200
    body = reply.json()
    assert body["packs"] and body["findings"]
    assert all(f["article"] for f in body["findings"])
    assert web.api("aud").get("/api/v1/compliance", params={"day": "nope"}).status_code == 422
