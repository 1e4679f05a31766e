"""Camera alarms on SQLite and PostgreSQL: deduplication, clearing, acknowledgement by a
person, their ``health`` leaves, the webhook against a real HTTP server on 127.0.0.1
(delivered; a failing or hanging receiver never breaks or delays the alarm), and the
finding for an alarm open longer than the pack allows."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from argon2 import PasswordHasher

from oversight import bootstrap
from oversight.clock import FixedClock
from oversight.config import Settings
from oversight.domain.people import PermissionDenied, Person
from oversight.errors import AlreadyExists, InvalidInput, NotFound
from oversight.services import alarms, compliance, people, registry
from tests.actors import HOST
from tests.conftest import Env
from tests.services.test_people import leaves_of

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
PW = "user password 12"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2id with the smallest parameters: these tests are not about hashing.
    monkeypatch.setattr(
        people, "hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def build(clock: FixedClock, **settings: Any) -> bootstrap.System:
    return bootstrap.build(Settings(**settings), clock=clock)


@pytest.fixture
def sys_(initialised: Env, clock: FixedClock) -> Iterator[bootstrap.System]:
    built = build(clock)
    try:
        yield built
    finally:
        built.close()


def add_person(system: bootstrap.System, admin: Person | None, user_id: str, *roles: str) -> Person:
    """An admin (no ``admin`` given) or a trained person with ``roles``."""
    if admin is None:
        return people.add_user(
            system,
            None,
            user_id=user_id,
            name=user_id,
            roles=["admin"],
            id_doc="BOSS0001",
            password=PW,
        )
    people.add_user(
        system,
        admin,
        user_id=user_id,
        name=user_id,
        roles=[],
        id_doc=f"{user_id.upper()}0001",
        password=PW,
    )
    people.record_training(
        system,
        admin,
        user_id=user_id,
        trained_on=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
        topics=["skills", "confidentiality"],
    )
    for role in roles:
        people.grant_role(system, admin, user_id, role)
    return people.person_by_id(system, user_id)


def add_site_and_cameras(
    system: bootstrap.System, *cameras: str, site: str = "s1", commissioned: date | None = None
) -> None:
    with contextlib.suppress(AlreadyExists):
        registry.add_org(system, HOST, org_id="acme", name="Acme", kind="owner")
    registry.add_site(system, HOST, site_id=site, name=site, category="school", owner_id="acme")
    day = commissioned or system.packs.local_date(system.clock.now())
    for cam in cameras:
        registry.add_camera(
            system,
            HOST,
            camera_id=cam,
            site_id=site,
            placement="general",
            coverage="entrance",
            stream_url=f"rtsp://127.0.0.1:8554/{cam}",
            commissioned=day,
        )


@pytest.fixture
def cast(sys_: bootstrap.System) -> dict[str, Person]:
    boss = add_person(sys_, None, "boss")
    add_site_and_cameras(sys_, "cam1", "cam2")
    return {
        "boss": boss,
        "op": add_person(sys_, boss, "op", "operator"),
        "cust": add_person(sys_, boss, "cust", "custodian"),
        "cop": add_person(sys_, boss, "cop", "requester"),
    }


def test_raise_is_deduplicated_until_cleared(
    sys_: bootstrap.System, cast: dict[str, Person], clock: FixedClock
) -> None:
    first = alarms.raise_alarm(sys_, camera="cam1", kind="covered", detail="mean luma 3")
    assert first.is_open and first.seen == 1 and first.started_at == NOW
    clock.set(NOW + timedelta(seconds=2))
    again = alarms.raise_alarm(sys_, camera="cam1", kind="covered", detail="mean luma 2")
    assert again.id == first.id and again.seen == 2
    assert again.last_seen_at == NOW + timedelta(seconds=2) and again.started_at == NOW
    other = alarms.raise_alarm(sys_, camera="cam1", kind="offline", detail="no packets for 30 s")
    assert other.id != first.id
    assert [a.id for a in alarms.list_alarms(sys_, HOST, open_only=True)] == [other.id, first.id]
    assert [a.id for a in alarms.list_alarms(sys_, HOST, camera="cam2")] == []

    # One leaf per new alarm, none for a repeat.
    raised = [leaf for leaf in leaves_of(sys_, "health") if leaf["action"] == "alarm.raise"]
    assert [leaf["subject"] for leaf in raised] == [f"alarm:{first.id}", f"alarm:{other.id}"]
    assert raised[0]["details"] == {
        "camera": "cam1",
        "kind": "covered",
        "detail": "mean luma 3",
        "start": "2026-06-01T04:00:00.000000Z",
    }

    clock.set(NOW + timedelta(minutes=5))
    closed = alarms.clear_alarm(sys_, camera="cam1", kind="covered")
    assert closed is not None and closed.id == first.id
    assert closed.ended_at == NOW + timedelta(minutes=5) and not closed.is_open
    assert alarms.clear_alarm(sys_, camera="cam1", kind="covered") is None
    cleared = [leaf for leaf in leaves_of(sys_, "health") if leaf["action"] == "alarm.clear"]
    assert [leaf["subject"] for leaf in cleared] == [f"alarm:{first.id}"]

    reopened = alarms.raise_alarm(sys_, camera="cam1", kind="covered", detail="covered again")
    assert reopened.id not in (first.id, other.id) and reopened.seen == 1
    assert alarms.get_alarm(sys_, HOST, first.id).to_json()["state"] == "closed"


def test_acknowledge_by_a_person_once(
    initialised: Env, sys_: bootstrap.System, cast: dict[str, Person]
) -> None:
    alarm = alarms.raise_alarm(sys_, camera="cam2", kind="moved", detail="scene match 0.21")
    acked = alarms.acknowledge(sys_, cast["op"], alarm.id, "crew sent to re-aim it")
    assert acked.acked_by == "op" and acked.ack_note == "crew sent to re-aim it"
    assert acked.is_open  # an acknowledgement does not close it
    [leaf] = [x for x in leaves_of(sys_, "health") if x["action"] == "alarm.ack"]
    assert leaf["actor"] == "op" and leaf["subject"] == f"alarm:{alarm.id}"
    assert leaf["details"]["note"] == "crew sent to re-aim it"
    assert acked.to_json()["acknowledged"]["by"] == "op"

    before = initialised.counts()
    leaves_before = len(leaves_of(sys_, "health"))
    with pytest.raises(InvalidInput, match="acknowledged already by op"):
        alarms.acknowledge(sys_, cast["cust"], alarm.id, "")
    other = alarms.raise_alarm(sys_, camera="cam2", kind="offline", detail="timeout")
    before = initialised.counts()
    leaves_before = len(leaves_of(sys_, "health"))
    with pytest.raises(PermissionDenied):
        alarms.acknowledge(sys_, cast["cop"], other.id, "not mine to ack")
    with pytest.raises(NotFound):
        alarms.acknowledge(sys_, cast["cust"], 999, "")
    assert initialised.counts() == before
    assert len(leaves_of(sys_, "health")) == leaves_before
    # A custodian may acknowledge too.
    assert alarms.acknowledge(sys_, cast["cust"], other.id, "").acked_by == "cust"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"camera": "cam1", "kind": "exploded", "detail": "x"}, InvalidInput, "unknown alarm kind"),
        ({"camera": "nope", "kind": "offline", "detail": "x"}, NotFound, "camera 'nope'"),
        ({"camera": "cam1", "kind": "offline", "detail": "  "}, InvalidInput, "must not be empty"),
        (
            {"camera": "cam1", "kind": "offline", "detail": "x", "at": datetime(2026, 6, 1)},
            InvalidInput,
            "time zone",
        ),
    ],
)
def test_refused_alarm_writes_nothing(
    initialised: Env,
    sys_: bootstrap.System,
    cast: dict[str, Person],
    kwargs: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    before = initialised.counts()
    with pytest.raises(error, match=message):
        alarms.raise_alarm(sys_, **kwargs)
    assert initialised.counts() == before


def test_credentials_in_detail_are_scrubbed(
    sys_: bootstrap.System, cast: dict[str, Person]
) -> None:
    alarm = alarms.raise_alarm(
        sys_, camera="cam1", kind="offline", detail="rtsp://admin:hunter2@10.0.0.5/s: timeout"
    )
    assert "hunter2" not in alarm.detail and "rtsp://***@10.0.0.5/s" in alarm.detail
    assert "hunter2" not in json.dumps(leaves_of(sys_, "health"))


# ---- webhook: a real HTTP server on 127.0.0.1 -------------------------------------------


class Receiver:
    """A real HTTP server in a thread: records each POST; answers ``status``; with
    ``hold`` set, blocks every answer until it is released."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.auth: list[str | None] = []
        self.got = threading.Event()
        self.release = threading.Event()
        self.release.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                receiver.paths.append(self.path)
                receiver.auth.append(self.headers.get("Authorization"))
                assert self.headers["Content-Type"] == "application/json"
                receiver.got.set()
                receiver.release.wait(10)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alarm"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


def test_webhook_posts_the_alarm_json(
    initialised: Env, cast: dict[str, Person], clock: FixedClock, receiver: Receiver
) -> None:
    system = build(clock, alarm_webhook_url=receiver.url)
    try:
        alarm = alarms.raise_alarm(system, camera="cam1", kind="offline", detail="no packets")
        alarms.wait_for_deliveries(10)
        alarms.raise_alarm(system, camera="cam1", kind="offline", detail="still none")  # repeat
        alarms.clear_alarm(system, camera="cam1", kind="offline")
        alarms.wait_for_deliveries(10)
    finally:
        system.close()
    assert receiver.paths == ["/hooks/alarm", "/hooks/alarm"]  # no POST for the repeat
    raised, cleared = receiver.bodies
    assert raised["event"] == "alarm.raise" and raised["id"] == alarm.id
    assert raised["camera"] == "cam1" and raised["kind"] == "offline"
    assert raised["detail"] == "no packets" and raised["state"] == "open"
    assert cleared["event"] == "alarm.clear" and cleared["state"] == "closed"


def test_failing_webhooks_never_break_or_delay_the_alarm(
    initialised: Env,
    cast: dict[str, Person],
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="oversight.alarms")
    failing = Receiver(status=500)
    hanging = Receiver()
    hanging.release.clear()
    # A port with nothing listening: bind one, then close it.
    closed = Receiver()
    dead_url = closed.url.replace("/hooks/alarm", "/x?token=s3cret")
    closed.close()
    try:
        cases = [
            ("cam1", failing.url.replace("http://", "http://user:pw0rd@") + "?token=s3cret"),
            ("cam2", dead_url),
        ]
        for camera, url in cases:
            system = build(clock, alarm_webhook_url=url, alarm_webhook_timeout_s=2)
            try:
                rec = alarms.raise_alarm(system, camera=camera, kind="offline", detail="down")
                alarms.wait_for_deliveries(10)
                assert alarms.get_alarm(system, HOST, rec.id).is_open
            finally:
                system.close()
        assert failing.bodies and failing.bodies[0]["camera"] == "cam1"
        assert failing.paths == ["/hooks/alarm?token=s3cret"]
        assert failing.auth == ["Basic dXNlcjpwdzByZA=="]  # user:pw0rd

        # A receiver that does not answer: the alarm is committed and returned while
        # the POST is still waiting; the delivery gives up after its timeout.
        system = build(clock, alarm_webhook_url=hanging.url, alarm_webhook_timeout_s=1)
        try:
            rec = alarms.raise_alarm(system, camera="cam1", kind="covered", detail="dark")
            assert alarms.get_alarm(system, HOST, rec.id).is_open
            assert hanging.got.wait(10)  # the POST arrived and is being held
            alarms.wait_for_deliveries(10)
        finally:
            system.close()
    finally:
        failing.close()
        hanging.close()
    failures = [r.getMessage() for r in caplog.records if "webhook" in r.getMessage()]
    assert any("HTTP 500" in f for f in failures), failures
    assert any("refused" in f.lower() for f in failures), failures
    assert any("timed out" in f for f in failures), failures
    assert not any("s3cret" in f or "pw0rd" in f or "/hooks" in f for f in failures), failures
    assert all(f.startswith("alarm webhook to http://127.0.0.1:") for f in failures)


def test_webhook_setting_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        Settings(alarm_webhook_url="file:///etc/passwd")
    assert Settings(alarm_webhook_url=" ").alarm_webhook_url is None


# ---- compliance -------------------------------------------------------------------------


def _findings(system: bootstrap.System, rule: str) -> list[dict[str, Any]]:
    report = compliance.report(system).to_json()
    return [f for f in report["findings"] if f["rule"] == rule]


def test_alarm_open_too_long_is_a_finding_with_article(
    sys_: bootstrap.System, cast: dict[str, Person], clock: FixedClock
) -> None:
    offline = alarms.raise_alarm(sys_, camera="cam1", kind="offline", detail="no packets")
    covered = alarms.raise_alarm(sys_, camera="cam2", kind="covered", detail="uniform frame")
    clock.set(NOW + timedelta(hours=23))
    assert _findings(sys_, "alarm_unhandled") == [] and _findings(sys_, "alarm_obstructed") == []

    clock.set(NOW + timedelta(hours=25))
    alarms.acknowledge(sys_, cast["op"], offline.id, "technician booked")
    [late] = _findings(sys_, "alarm_unhandled")
    assert late["article"] == "Art. 14(1)" and late["pack"] == "xj-2014"
    assert late["subject"] == "camera:cam1"
    assert late["penalty"] == {"min_cny": 200, "max_cny": 20000, "article": "Art. 20"}
    assert f"alarm {offline.id}" in late["message"] and "acknowledged by op" in late["message"]
    [blocked] = _findings(sys_, "alarm_obstructed")
    assert blocked["article"] == "Art. 13" and blocked["subject"] == "camera:cam2"
    assert blocked["penalty"]["article"] == "Art. 19"
    assert f"alarm {covered.id}" in blocked["message"]

    alarms.clear_alarm(sys_, camera="cam1", kind="offline")
    assert _findings(sys_, "alarm_unhandled") == []


def test_cn_pack_cites_its_own_articles(
    initialised: Env, clock: FixedClock, cast: dict[str, Person]
) -> None:
    system = build(clock, rule_packs="xj-2014,cn-2025")
    try:
        alarms.raise_alarm(system, camera="cam1", kind="moved", detail="scene changed")
        clock.set(NOW + timedelta(hours=30))
        found = compliance.report(system).to_json()["findings"]
    finally:
        system.close()
    moved = [f for f in found if f["subject"] == "camera:cam1" and "moved" in f["message"]]
    articles = {moved[0]["article"]} | {a["article"] for a in moved[0]["also"]}
    assert len(moved) == 1 and articles == {"Art. 14(1)", "Art. 23(2)"}
