"""The compliance page: findings with article, deadline and penalty; as of a day; the
printable report."""

from __future__ import annotations

from datetime import timedelta

from oversight.services import compliance, registry
from tests.actors import HOST
from tests.recorder.helpers import add_camera
from tests.web.conftest import Web


def _unfiled_old_camera(web: Web) -> None:
    """A camera commissioned 60 days ago and never filed: an overdue filing."""
    add_camera(web.system, "cam0", "rtsp://127.0.0.1/cam0")
    registry.add_camera(
        web.system,
        HOST,
        camera_id="old",
        site_id="s1",
        placement="general",
        coverage="entrance",
        stream_url="rtsp://127.0.0.1/old",
        commissioned=web.system.packs.local_date(web.system.clock.now()) - timedelta(days=60),
    )


def test_findings_show_article_deadline_and_penalty(web: Web) -> None:
    _unfiled_old_camera(web)
    findings = compliance.report(web.system).findings
    overdue = next(f for f in findings if f.subject.endswith("old") and f.deadline is not None)
    reply = web.console("op").get("/compliance?lang=en")
    assert reply.status_code == 200
    html = reply.text
    assert f"{overdue.pack} {overdue.article}" in html
    assert str(overdue.deadline) in html
    if overdue.min_cny is not None:
        assert f"CNY {overdue.min_cny:,}" in html
    assert html.count('class="finding ') == len(findings)


def test_the_report_as_of_a_past_day(web: Web) -> None:
    _unfiled_old_camera(web)
    long_ago = web.system.packs.local_date(web.system.clock.now()) - timedelta(days=59)
    html = web.console("aud").get(f"/compliance?at={long_ago}&lang=en").text
    assert f"Findings as of {long_ago}" in html and f'value="{long_ago}"' in html


def test_the_printable_report_is_a_standalone_page(web: Web) -> None:
    _unfiled_old_camera(web)
    reply = web.console("cust").get("/compliance/report")
    assert reply.status_code == 200 and "Compliance report" in reply.text
    assert "'sha256-" in reply.headers["content-security-policy"]


def test_bad_days_and_roles_are_refused(web: Web) -> None:
    assert web.console("aud").get("/compliance?at=soon").status_code == 400
    for user in ("wit", "cop"):
        client = web.console(user)
        assert client.get("/compliance").status_code == 403
        assert client.get("/compliance/report").status_code == 403
