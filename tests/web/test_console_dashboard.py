"""The dashboard: live camera status (an htmx fragment), a coverage picture per camera,
storage, open findings, the latest checkpoint and the last integrity check."""

from __future__ import annotations

import re
from pathlib import Path

from oversight.services import compliance, recording, verify
from oversight.web.console.dashboard import CameraLine
from tests.actors import HOST
from tests.web.api_data import sealed_camera
from tests.web.conftest import Web


def test_the_dashboard_shows_status_coverage_storage_and_ledger(web: Web, tmp_path: Path) -> None:
    sealed = sealed_camera(web.system, tmp_path, count=3)
    recording.set_status(
        web.system, "cam1", state="recording", since=sealed[0].start, last_segment_at=sealed[-1].end
    )
    with web.system.sessions.begin() as session:
        web.system.ledger.publish(session)
    started = web.system.clock.now()
    verify.record_run(web.system, HOST, verify.verify(web.system), started)
    page = web.console("op").get("/?lang=en")
    assert page.status_code == 200
    html = page.text
    assert 'hx-get="/fragments/camera-status"' in html and 'hx-trigger="every 5s"' in html
    assert ">recording<" in html
    # One picture for cam1 with the three minutes recorded as one green span.
    svg = html[html.index('id="timeline-cam1"') :]
    assert len(re.findall(r'<rect class="recorded"', svg.split("</svg>")[0])) == 1
    assert "days of footage at the last day" in html and " used" in html
    assert 'id="findings" hx-get="/fragments/findings" hx-trigger="load"' in html
    assert "Passed" in html
    assert re.search(r"\d+ leaves", html)


def test_the_status_fragment_is_the_table_alone(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    reply = web.console("op").get("/fragments/camera-status")
    assert reply.status_code == 200
    assert reply.text.lstrip().startswith('<table class="grid" id="camera-status">')
    assert "cam1" in reply.text and "<html" not in reply.text


def test_people_without_a_staff_role_see_no_cameras_and_no_findings_card(
    web: Web, tmp_path: Path
) -> None:
    # Recorder state is the staff's (``recordings.read`` in the policy table).
    sealed_camera(web.system, tmp_path, count=1)
    html = web.console("cop").get("/").text
    assert "cam1" not in html and 'id="findings"' not in html
    assert "cam1" not in web.console("cop").get("/fragments/camera-status").text


def test_an_empty_deployment_says_so(web: Web) -> None:
    html = web.console("boss").get("/?lang=en").text
    assert "No cameras registered yet." in html
    assert "No integrity check has run yet." in html


def test_the_fragment_needs_a_login(web: Web) -> None:
    reply = web.client().get("/fragments/camera-status")
    assert reply.status_code in (303, 401)


def test_a_stopped_camera_still_has_its_timeline(web: Web, tmp_path: Path) -> None:
    sealed = sealed_camera(web.system, tmp_path, count=1)
    recording.set_status(web.system, "cam1", state="stopped", since=sealed[0].end)
    html = web.console("op").get("/?lang=en").text
    # Its recorder is not running (issue 22): red "recorder not running", not grey "stopped".
    assert 'id="timeline-cam1"' in html and "not recording: recorder not running" in html
    assert "&lt;0.1% recorded" in html  # one minute of a day is not "0.0%"


def test_a_sliver_of_coverage_is_not_rounded_to_nothing() -> None:
    assert CameraLine("c", 0.00001, "").percent == "<0.1"
    assert CameraLine("c", 0.0, "").percent == "0.0"
    assert CameraLine("c", 0.5, "").percent == "50.0"


def test_the_findings_card_loads_as_a_fragment_for_staff(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=1)
    expected = len(compliance.report(web.system).findings)
    reply = web.console("aud").get("/fragments/findings?lang=en")
    assert reply.status_code == 200 and "<html" not in reply.text
    assert f'id="findings-count">{expected}<' in reply.text and 'href="/compliance"' in reply.text
    assert web.console("cop").get("/fragments/findings").status_code == 403
