"""The filing page: what is owed, recording a filing, and the printable form."""

from __future__ import annotations

from oversight.services import compliance
from tests.recorder.helpers import add_camera
from tests.web.conftest import Web


def _today(web: Web) -> str:
    return web.system.packs.local_date(web.system.clock.now()).isoformat()


def test_a_new_camera_is_owed_and_recording_the_filing_settles_it(web: Web) -> None:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1/cam1")
    client = web.console("op")
    html = client.get("/filing?lang=en").text
    assert 'id="due-cam1-commissioning"' in html and ">due<" in html
    reply = client.submit(
        "/filing",
        {"camera_id": "cam1", "kind": "commissioning", "filed_on": _today(web), "receipt": "R-1"},
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/filing"
    _, owed = compliance.due_filings(web.system)
    assert owed == []
    assert "Nothing is owed." in client.get("/filing?lang=en").text
    everything = client.get("/filing?all=1&lang=en").text
    assert 'id="due-cam1-commissioning"' in everything and ">filed (" in everything


def test_filing_a_removal_of_a_camera_still_in_service_is_refused(web: Web) -> None:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1/cam1")
    client = web.console("op")
    before = web.env.counts()
    reply = client.submit(
        "/filing",
        {"camera_id": "cam1", "kind": "removal", "filed_on": _today(web), "receipt": "R-2"},
    )
    assert reply.status_code == 400 and "has not been removed" in reply.text
    assert web.env.counts() == before


def test_the_printable_form_is_served_with_its_own_style_admitted(web: Web) -> None:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1/cam1")
    reply = web.console("aud").get("/filing/cam1/form")
    assert reply.status_code == 200
    assert "备案表" in reply.text and "cam1" in reply.text
    csp = reply.headers["content-security-policy"]
    assert "style-src 'self' 'sha256-" in csp and "script-src 'self';" in csp
    assert web.console("aud").get("/filing/nope/form").status_code == 404


def test_only_registrars_record_and_only_staff_read(web: Web) -> None:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1/cam1")
    assert web.console("wit").get("/filing").status_code == 403
    assert web.console("cop").get("/filing/cam1/form").status_code == 403
    aud, op = web.console("aud"), web.console("op")
    assert 'id="record-filing-form"' not in aud.get("/filing").text
    before = web.env.counts()
    data = {"camera_id": "cam1", "kind": "commissioning", "filed_on": _today(web), "receipt": "R"}
    assert aud.submit("/filing", data).status_code == 403
    assert op.post("/filing", data=data).status_code == 403  # no CSRF token
    assert web.env.counts() == before
