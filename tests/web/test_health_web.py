"""Health in the API and the console: alarms listed and acknowledged by the right roles,
live state from the monitor's snapshots (stale ones read as unknown), and /metrics."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from oversight.db.models import MAX_ID
from oversight.services import alarms, health
from tests.actors import HOST
from tests.recorder.helpers import add_camera
from tests.web.conftest import Web


def _covered(web: Web) -> int:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1:9/cam1")
    alarm = alarms.raise_alarm(
        web.system, camera="cam1", kind="covered", detail="uniform dark frame"
    )
    return alarm.id


def test_open_alarms_are_listed_and_an_operator_acknowledges_one(web: Web) -> None:
    alarm_id = _covered(web)
    listed = web.api("aud").get("/api/v1/alarms", params={"open": "true"}).json()
    assert [(a["camera"], a["kind"], a["state"]) for a in listed] == [("cam1", "covered", "open")]
    refused = web.api("aud").post(f"/api/v1/alarms/{alarm_id}/ack", json={"note": "seen"})
    assert refused.status_code == 403  # auditors watch; they do not act
    acked = web.api("op").post(f"/api/v1/alarms/{alarm_id}/ack", json={"note": "guard sent"})
    assert acked.status_code == 200
    assert acked.json()["acknowledged"]["by"] == "op"
    assert acked.json()["acknowledged"]["note"] == "guard sent"


def test_an_alarm_id_past_the_column_range_is_a_422_that_writes_nothing(web: Web) -> None:
    # Found by the fuzzer: the id reached SQLite's driver, which cannot hold it (a 500).
    alarm_id = _covered(web)
    api = web.api("op")
    assert api.post(f"/api/v1/alarms/{MAX_ID + 1}/ack", json={"note": "x"}).status_code == 422
    assert api.post(f"/api/v1/alarms/{MAX_ID}/ack", json={"note": "x"}).status_code == 404
    listed = api.get("/api/v1/alarms", params={"open": "true"}).json()
    assert [(a["id"], a["acknowledged"]) for a in listed] == [(alarm_id, None)]


def test_the_console_health_page_shows_alarms_and_takes_an_acknowledgement(web: Web) -> None:
    alarm_id = _covered(web)
    client = web.console("cust")
    page = client.get("/health", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert f'id="alarm-{alarm_id}"' in page.text and "uniform dark frame" in page.text
    assert client.post(f"/alarms/{alarm_id}/ack", data={"note": "x"}).status_code == 403  # no CSRF
    assert client.submit(f"/alarms/{MAX_ID + 1}/ack", {"note": "x"}).status_code == 422
    assert client.submit(f"/alarms/{alarm_id}/ack", {"note": "checked"}).status_code == 303
    [alarm] = alarms.list_alarms(web.system, HOST)
    assert alarm.acked_by == "cust" and alarm.ack_note == "checked"
    assert web.console("cop").get("/health").status_code == 403


def test_live_state_comes_from_fresh_snapshots_only(web: Web) -> None:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1:9/cam1")
    now = web.system.clock.now()
    snap = health.Snapshot("cam1", "online", now, 15.0, 1980.0, now, (), True, now)
    health.save_snapshot(web.system, snap)
    [row] = web.api("op").get("/api/v1/health").json()
    assert (row["live"], row["fps"], row["kbps"]) == ("online", 15.0, 1980.0)
    old = now - health.STALE_AFTER - timedelta(seconds=1)
    health.save_snapshot(
        web.system, health.Snapshot("cam1", "online", old, 15, 1980, old, (), True, old)
    )
    [row] = web.api("op").get("/api/v1/health").json()
    assert row["live"] == "unknown" and row["fps"] is None


def test_metrics_need_a_token_and_report_state_in_prometheus_text(web: Web) -> None:
    _covered(web)
    anonymous = web.client().get("/metrics")
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"error", "rule", "article"}
    reply = web.api("aud").get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = reply.text.splitlines()
    # Values as Prometheus reads them (prometheus_client writes 1 as 1.0).
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
    }
    assert samples[("oversight_alarms_open", (("kind", "covered"),))] == 1
    assert samples[("oversight_alarms_open", (("kind", "offline"),))] == 0
    with web.system.sessions() as s:
        size = web.system.ledger.size(s)
    assert samples[("oversight_ledger_size", ())] == size
    assert samples[("oversight_last_verify_ok", ())] == -1
    assert "# TYPE oversight_segments_sealed_total counter" in lines
