"""The ledger page: verifier key, latest checkpoint, recent checkpoints, and the
integrity check an admin or auditor runs from the page (recorded, shown after)."""

from __future__ import annotations

from pathlib import Path

from oversight.ledger import keys
from oversight.services import verify
from oversight.storage.local import LocalStore
from tests.web.api_data import sealed_camera
from tests.web.conftest import Web


def _publish(web: Web) -> int:
    with web.system.sessions.begin() as session:
        return web.system.ledger.publish(session).size


def test_anyone_logged_in_sees_the_key_and_checkpoints(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=2)
    client = web.console("wit")  # logging in is itself a ledger leaf
    size = _publish(web)
    reply = client.get("/ledger?lang=en")
    assert reply.status_code == 200
    html = reply.text
    assert keys.verifier_key(web.system.settings.keys_dir) in html
    assert f'id="checkpoint-{size}"' in html and f"Covers the first {size} leaves" in html
    assert 'id="verify-form"' not in html and "No integrity check has run yet." in html


def test_an_auditor_runs_the_check_from_the_page(web: Web, tmp_path: Path) -> None:
    sealed_camera(web.system, tmp_path, count=2)
    _publish(web)
    client = web.console("aud")
    assert 'id="verify-form"' in client.get("/ledger").text
    reply = client.submit("/ledger/verify", {"sample": ""})
    assert reply.status_code == 303 and reply.headers["location"] == "/ledger#verify"
    run = verify.latest_run(web.system)
    assert run is not None and run.ok and run.run_by == "aud" and run.segments_checked == 2
    assert "Passed: nothing recorded was altered" in client.get("/ledger?lang=en").text


def test_a_missing_segment_shows_as_a_failed_check(web: Web, tmp_path: Path) -> None:
    sealed = sealed_camera(web.system, tmp_path, count=2)
    _publish(web)
    store = web.system.store
    assert isinstance(store, LocalStore)
    target = store.path(sealed[0].storage_key)
    target.unlink()
    client = web.console("boss")
    assert client.submit("/ledger/verify").status_code == 303
    html = client.get("/ledger?lang=en").text
    assert "Failed: 1 discrepancies" in html and ">missing<" in html


def test_people_who_may_not_verify_are_refused_and_nothing_is_recorded(web: Web) -> None:
    wit, aud = web.console("wit"), web.console("aud")
    before = web.env.counts()
    assert wit.submit("/ledger/verify").status_code == 403
    assert aud.post("/ledger/verify", data={}).status_code == 403  # no CSRF token
    assert web.env.counts() == before
    assert verify.latest_run(web.system) is None
