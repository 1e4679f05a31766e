"""Live view's enforcement point (issue 22, item 1), on SQLite and PostgreSQL: the
policy (``live.view``: operators and custodians on duty, in scope, trained; Art. 14(2)),
the ``view.live`` leaves (who, camera, start, end), refusals as leaves and 403s, and the
API serving a live window only through session-checked routes.

The window here is written by the test (the recorder's ffmpeg writes it in
tests/recorder/test_live_window.py and the browser test)."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oversight import bootstrap
from oversight.clock import FixedClock
from oversight.domain import policy
from oversight.domain.people import Person
from oversight.errors import InvalidInput, NotFound, PermissionDenied
from oversight.services import live
from tests.recorder.helpers import add_camera
from tests.services.test_people import leaves_of
from tests.web.authz_helpers import add_person, add_site
from tests.web.conftest import Web

PLAYLIST = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:3
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.000000,
part-3.m4s
#EXTINF:2.000000,
../../keys/signing.key
#EXTINF:2.000000,
part-4.m4s
"""


def window(system: bootstrap.System, camera: str = "cam1") -> Path:
    """A live window as the recorder's ffmpeg leaves it, one hostile line included."""
    directory = system.settings.live_root / camera
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "live.m3u8").write_text(PLAYLIST)
    (directory / "init.mp4").write_bytes(b"init section")
    (directory / "part-3.m4s").write_bytes(b"part three")
    (directory / "part-4.m4s").write_bytes(b"part four")
    return directory


@pytest.fixture
def cam(web: Web) -> str:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1:8554/cam1")
    return "cam1"


def access_leaves(system: bootstrap.System, prefix: str = "view.live") -> list[dict[str, Any]]:
    return [x for x in leaves_of(system, "access") if str(x["action"]).startswith(prefix)]


def test_the_policy_row_is_operators_and_custodians_in_scope() -> None:
    rule = policy.TABLE["live.view"]
    assert set(rule.roles) == {"operator", "custodian"} and rule.scoped
    s1 = policy.at_sites("camera", "cam1", ["s1"])
    for role, allowed in [("operator", True), ("custodian", True), ("auditor", False),
                          ("admin", False), ("requester", False), ("witness", False)]:  # fmt: skip
        assert policy.allowed(Person("p", "P", (role,)), "live.view", s1) is allowed, role
    assert not policy.allowed(Person("p", "P", ("operator",), sites=("s3",)), "live.view", s1)
    assert not policy.allowed(policy.host("root"), "live.view", s1)


def test_a_session_is_a_view_live_leaf_opened_then_closed_with_who_camera_start_end(
    web: Web, cam: str
) -> None:
    registry = live.LiveSessions(web.system)
    session = live.start(web.system, registry, web.cast["op"], cam)
    [opened] = access_leaves(web.system)
    assert opened["action"] == "view.live" and opened["actors"] == ["op"]
    assert opened["target"] == "cam1" and opened["details"]["camera"] == "cam1"
    assert opened["details"]["start"]
    assert live.touch(web.system, registry, web.cast["op"], session.token, cam) is session
    assert live.end(web.system, registry, web.cast["op"], session.token) is not None
    _, closed = access_leaves(web.system)
    assert closed["action"] == "view.live.end" and closed["actors"] == ["op"]
    assert closed["details"]["session"] == session.number
    assert closed["details"]["start"] == opened["details"]["start"]
    assert closed["details"]["end"] >= closed["details"]["start"]
    assert closed["details"]["reason"] == "left"
    assert len(registry) == 0
    with pytest.raises(NotFound):
        live.touch(web.system, registry, web.cast["op"], session.token, cam)


def test_a_session_whose_heartbeat_stops_ends_at_its_last_touch(web: Web, cam: str) -> None:
    clock = FixedClock(datetime.now(UTC))
    system = dataclasses.replace(web.system, clock=clock)
    registry = live.LiveSessions(system)
    session = live.start(system, registry, web.cast["cust"], cam)
    clock.set(clock.now() + timedelta(seconds=10))
    live.touch(system, registry, web.cast["cust"], session.token, cam)
    touched = clock.now()
    clock.set(touched + timedelta(seconds=system.settings.live_heartbeat_timeout_s + 1))
    assert [s.token for s in registry.sweep()] == [session.token]
    closed = access_leaves(system)[-1]
    assert (
        closed["action"] == "view.live.end" and closed["details"]["reason"] == "heartbeat stopped"
    )
    assert closed["details"]["end"] == touched.isoformat().replace("+00:00", "Z")


def _refused_only(
    web: Web, user: str, camera: str, rule: str, system: Any = None
) -> dict[str, Any]:
    system = system or web.system
    registry = live.LiveSessions(system)
    before = len(access_leaves(system))
    with pytest.raises((PermissionDenied, live.TrainingRefused)) as caught:
        live.start(system, registry, web.cast.get(user) or Person(user, user, ()), camera)
    assert getattr(caught.value, "rule", None) == rule or rule in caught.value.message
    assert caught.value.http_status == 403
    leaves = access_leaves(system)
    assert len(leaves) == before + 1 and len(registry) == 0
    refused = leaves[-1]
    assert refused["action"] == "view.live.refused" and refused["target"] == f"camera:{camera}"
    return refused


def test_no_role_out_of_scope_or_untrained_is_refused_as_a_leaf_and_nothing_opens(
    web: Web, cam: str
) -> None:
    assert _refused_only(web, "aud", cam, "role")["actors"] == ["aud"]
    add_site(web, "s3")
    add_person(web, "op3", "OPER0003", "operator", ["s3"])
    web.cast["op3"] = Person("op3", "Op3", ("operator",), sites=("s3",))
    _refused_only(web, "op3", cam, "site_scope")
    # The cast's training ends on 2030-01-01: after it, the operator is untrained.
    later = dataclasses.replace(web.system, clock=FixedClock(datetime(2030, 6, 1, tzinfo=UTC)))
    refused = _refused_only(web, "op", cam, "staff_training", later)
    assert refused["details"]["article"] == "Art. 14(2)"
    assert "live monitoring" in refused["details"]["reason"]


def test_the_number_of_open_sessions_per_person_is_bounded(
    web: Web, cam: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = dataclasses.replace(
        web.system, settings=web.system.settings.model_copy(update={"live_max_sessions": 2})
    )
    registry = live.LiveSessions(system)
    for _ in range(2):
        live.start(system, registry, web.cast["op"], cam)
    with pytest.raises(InvalidInput, match="OVERSIGHT_LIVE_MAX_SESSIONS"):
        live.start(system, registry, web.cast["op"], cam)
    assert len(access_leaves(system, "view.live")) == 2
    with pytest.raises(InvalidInput, match="camera id"):
        live.start(system, registry, web.cast["op"], "x" * 65)


def test_the_api_serves_the_window_only_through_the_session(web: Web, cam: str) -> None:
    window(web.system)
    op = web.api("op")
    started = op.post(f"/api/v1/cameras/{cam}/live", json={})
    assert started.status_code == 201, started.text
    body = started.json()
    text = op.get(body["playlist"])
    assert text.status_code == 200, text.text
    assert text.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    base = f"/api/v1/cameras/cam1/live/{body['session']}"
    assert f'#EXT-X-MAP:URI="{base}/init.mp4"' in text.text
    assert f"{base}/part-3.m4s" in text.text and f"{base}/part-4.m4s" in text.text
    assert "keys" not in text.text  # a line that is not a live part is dropped
    part = op.get(f"{base}/part-4.m4s")
    assert part.status_code == 200 and part.content == b"part four"
    assert op.get(f"{base}/init.mp4").content == b"init section"
    for bad in ("..%2F..%2Fkeys", "live.m3u8", "part-x.m4s"):
        assert op.get(f"{base}/{bad}").status_code in (400, 404, 422), bad
    # Another person cannot use the operator's session, even knowing its token.
    cust = web.api("cust")
    assert cust.get(body["playlist"]).status_code == 404
    assert cust.get(f"{base}/part-4.m4s").status_code == 404
    assert op.post(body["heartbeat"]).status_code == 204
    assert op.post(body["end"]).status_code == 204
    assert op.get(f"{base}/part-4.m4s").status_code == 404
    actions = [x["action"] for x in access_leaves(web.system)]
    assert actions == ["view.live", "view.live.end"]


def test_the_api_without_a_session_opens_one_and_redirects(web: Web, cam: str) -> None:
    window(web.system)
    reply = web.api("op").get(f"/api/v1/cameras/{cam}/live.m3u8")
    assert reply.status_code == 307
    assert reply.headers["location"].startswith("/api/v1/cameras/cam1/live.m3u8?session=")


def test_the_api_refuses_with_403_and_a_leaf_and_serves_nothing(web: Web, cam: str) -> None:
    window(web.system)
    aud = web.api("aud")
    for reply in (
        aud.post(f"/api/v1/cameras/{cam}/live", json={}),
        aud.get(f"/api/v1/cameras/{cam}/live.m3u8"),
    ):
        assert reply.status_code == 403, reply.text
        assert reply.json()["rule"] == "policy.role"
        assert "part" not in reply.text
    assert [x["action"] for x in access_leaves(web.system)] == ["view.live.refused"] * 2
    assert web.api("op").get("/api/v1/cameras/nope/live.m3u8").status_code == 404
    too_long = web.api("op").get(f"/api/v1/cameras/{'x' * 65}/live.m3u8")
    assert too_long.status_code == 422


def test_a_stale_or_missing_window_is_not_live(web: Web, cam: str) -> None:
    registry = live.LiveSessions(web.system)
    session = live.start(web.system, registry, web.cast["op"], cam)
    with pytest.raises(NotFound, match="not live"):
        live.playlist(web.system, session, lambda n: n)
    directory = window(web.system)
    old = datetime.now(UTC).timestamp() - 60
    import os

    os.utime(directory / "live.m3u8", (old, old))
    with pytest.raises(NotFound, match="not live"):
        live.playlist(web.system, session, lambda n: n)


def test_the_live_wall_page_offers_the_cameras_in_scope_and_bounds_its_input(
    web: Web, cam: str
) -> None:
    op = web.console("op")
    wall = op.get("/live?tiles=4")
    assert wall.status_code == 200, wall.text
    assert wall.text.count('class="tile"') == 4 and 'data-camera="cam1"' in wall.text
    assert "/static/vendor/hls.light.min.js" in wall.text
    nine = op.get("/live?tiles=9&cam=cam1&cam=")
    assert nine.text.count('class="tile"') == 9
    for bad in ("tiles=5", "tiles=4&cam=" + "x" * 65, "tiles=4&cam=a%20b"):
        assert op.get(f"/live?{bad}").status_code in (400, 422), bad
    assert op.get("/live?" + "&".join(["cam=cam1"] * 17)).status_code == 400
    before = len(access_leaves(web.system))
    refused = web.console("aud").get("/live")
    assert refused.status_code == 403
    [leaf] = access_leaves(web.system)[before:]
    assert leaf["action"] == "view.live.refused" and leaf["actors"] == ["aud"]


def test_a_blocking_reload_answers_once_the_next_part_is_listed(web: Web, cam: str) -> None:
    directory = window(web.system)
    op = web.api("op")
    body = op.post(f"/api/v1/cameras/{cam}/live", json={}).json()
    first = op.get(body["playlist"]).text
    assert "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES" in first
    assert live.next_sequence(PLAYLIST) == 6  # parts 3, (a dropped line), 4 listed from 3

    def more() -> None:
        (directory / "part-6.m4s").write_bytes(b"part six")
        (directory / "live.m3u8").write_text(PLAYLIST + "#EXTINF:2.000000,\npart-6.m4s\n")

    timer = threading.Timer(0.5, more)
    started = time.monotonic()
    timer.start()
    # Served: parts 3 and 4 (the hostile line dropped), so the next is 5: wait for it.
    blocked = op.get(body["playlist"] + "&_HLS_msn=5")
    waited = time.monotonic() - started
    timer.join()
    assert blocked.status_code == 200 and "part-6.m4s" in blocked.text
    assert 0.4 < waited < 5, waited
    assert op.get(body["playlist"] + "&_HLS_msn=-1").status_code == 422


def test_an_orderly_server_stop_ends_every_open_session(web: Web, cam: str) -> None:
    """The app's shutdown (uvicorn's, here the test client's) writes the end leaf of a
    session the operator never ended."""
    window(web.system)
    with web.client() as client:  # the context runs the app's startup and shutdown
        client.headers["Authorization"] = f"Bearer {web.token('op')}"
        started = client.post(f"/api/v1/cameras/{cam}/live", json={})
        assert started.status_code == 201, started.text
        assert [x["action"] for x in access_leaves(web.system)] == ["view.live"]
    opened, closed = access_leaves(web.system)
    assert closed["action"] == "view.live.end" and closed["actors"] == ["op"]
    assert closed["details"]["session"] == started.json()["number"]
    assert closed["details"]["start"] == opened["details"]["start"]
    assert closed["details"]["reason"] == "server stopped"
