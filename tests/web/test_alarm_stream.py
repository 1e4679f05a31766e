"""Issue 22, item 4: the alarm banner on every console page, fed by server-sent events
from ``GET /events/alarms`` on a real uvicorn server: scoped to the person's cameras,
asked of the policy, one stream per session, a bound on streams, keep-alive comments,
the end of the stream when the session ends, and acknowledging from the banner."""

from __future__ import annotations

import http.client
import json
import queue
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

from oversight.api.security import COOKIE
from oversight.services import alarms
from oversight.web.console.alarms_stream import Streams
from tests.recorder.helpers import add_camera
from tests.web.authz_helpers import add_camera_at, add_person, add_site
from tests.web.conftest import LiveServer, Web
from tests.web.hardening_edge_server import Served, serve

pytestmark = pytest.mark.parametrize("database_url", [None])  # SQLite: real-time streams


@pytest.fixture(autouse=True)
def quick_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERSIGHT_ALARM_STREAM_POLL_S", "0.2")
    monkeypatch.setenv("OVERSIGHT_ALARM_STREAM_KEEPALIVE_S", "1")


def cookie(web: Web, user: str) -> str:
    token = web.console(user).cookies.get(COOKIE)
    assert token
    return token


class Feed:
    """An open ``GET /events/alarms`` on the real server, its lines read by a thread
    (http.client reads a streamed body as it comes; a queue gives the test timeouts)."""

    def __init__(self, reply: http.client.HTTPResponse) -> None:
        self.reply = reply
        self.status = reply.status
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def getheader(self, name: str) -> str | None:
        return self.reply.getheader(name)

    def _read(self) -> None:
        try:
            for raw in self.reply:
                self.lines.put(raw.decode().rstrip("\n"))
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # the test closed the connection under the reader: the stream is over
        self.lines.put(None)

    def body(self) -> str:
        got: list[str] = []
        while (line := self.lines.get(timeout=5)) is not None:
            got.append(line)
        return "\n".join(got)


@contextmanager
def stream(server: LiveServer | Served, token: str) -> Iterator[Feed]:
    where = urlsplit(server.url)
    conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    try:
        conn.request(
            "GET",
            "/events/alarms",
            headers={"Cookie": f"{COOKIE}={token}", "Accept-Language": "en"},
        )
        yield Feed(conn.getresponse())
    finally:
        if conn.sock is not None:
            conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()


def events(feed: Feed, wanted: int, seconds: float = 5) -> list[tuple[str, Any]]:
    """The next ``wanted`` events or comments: ("alarms", data), ("ended", {}),
    ("comment", text); fewer if the stream ends or ``seconds`` pass."""
    out: list[tuple[str, Any]] = []
    kind = ""
    deadline = time.monotonic() + seconds
    while len(out) < wanted:
        try:
            line = feed.lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            feed.lines.put(None)  # the server ended the stream; it stays ended
            break
        if line.startswith(":"):
            out.append(("comment", line[1:].strip()))
        elif line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("data: "):
            out.append((kind, json.loads(line[len("data: ") :])))
    return out


def test_every_page_carries_the_banner_for_those_who_may_see_alarms(web: Web) -> None:
    for path in ("/", "/health", "/recordings", "/ledger"):
        page = web.console("op").get(path).text
        assert 'id="alarm-banner"' in page and "/static/alarms.js" in page, path
    # A requester may not see recorder status or alarms: no banner, and the stream refuses.
    assert 'id="alarm-banner"' not in web.console("cop").get("/").text
    assert web.console("cop").get("/events/alarms").status_code == 403


def test_the_stream_shows_the_open_count_and_the_newest_alarm_in_scope(
    web: Web, live_server: LiveServer
) -> None:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1:9/cam1")
    add_site(web, "s3")
    add_camera_at(web, "cam3", "s3")
    add_person(web, "op3", "OPER0003", "operator", ["s3"])
    alarms.raise_alarm(web.system, camera="cam1", kind="offline", detail="no frames")
    with (
        stream(live_server, cookie(web, "op")) as everyone,
        stream(live_server, cookie(web, "op3")) as scoped,
    ):
        assert (everyone.getheader("content-type") or "").startswith("text/event-stream")
        [(kind, first)] = events(everyone, 1)
        assert kind == "alarms" and first["count"] == 1
        assert first["newest"]["camera"] == "cam1" and first["newest"]["kind"] == "offline"
        assert "cam1 offline since" in first["newest"]["text"] and first["may_ack"]
        [(_, mine)] = events(scoped, 1)
        assert mine["count"] == 0 and mine["newest"] is None  # cam1 is not at s3

        alarms.raise_alarm(web.system, camera="cam3", kind="covered", detail="dark")
        [(_, now)] = [e for e in events(everyone, 3) if e[0] == "alarms"][:1]
        assert now["count"] == 2 and now["newest"]["camera"] == "cam3"
        [(_, theirs)] = [e for e in events(scoped, 3) if e[0] == "alarms"][:1]
        assert theirs["count"] == 1 and theirs["newest"]["camera"] == "cam3"
        assert "cam1" not in json.dumps(theirs)


def test_a_quiet_stream_sends_keep_alive_comments(web: Web, live_server: LiveServer) -> None:
    with stream(live_server, cookie(web, "op")) as reply:
        seen = events(reply, 3, seconds=4)
    assert ("comment", "keep-alive") in seen


def test_the_stream_ends_when_the_session_ends(web: Web, live_server: LiveServer) -> None:
    console = web.console("op")
    token = console.cookies.get(COOKIE)
    assert token
    with stream(live_server, token) as reply:
        assert events(reply, 1)[0][0] == "alarms"
        assert console.submit("/logout").status_code == 303
        rest = events(reply, 5, seconds=5)
    assert ("ended", {}) in rest


def test_one_stream_per_session_and_a_bound_on_streams(web: Web, live_server: LiveServer) -> None:
    web.app.state.alarm_streams = Streams(limit=1)
    mine = cookie(web, "op")
    with stream(live_server, mine) as first:
        assert events(first, 1)[0][0] == "alarms"
        with stream(live_server, mine) as second:  # the next page of the same session
            assert events(second, 1)[0][0] == "alarms"
            # The older stream was told so, and ended.
            assert events(first, 5, seconds=3) == [("replaced", {})]
            with stream(live_server, cookie(web, "cust")) as other:
                assert other.status == 429
                assert "OVERSIGHT_ALARM_STREAM_MAX=1" in other.body()
    # Both closed: the slot is free again for another session.
    deadline = time.monotonic() + 5
    while web.app.state.alarm_streams.open and time.monotonic() < deadline:
        time.sleep(0.1)
    with stream(live_server, cookie(web, "cust")) as again:
        assert again.status == 200


def test_acknowledge_from_the_banner_returns_to_the_page(web: Web) -> None:
    add_camera(web.system, "cam1", "rtsp://127.0.0.1:9/cam1")
    alarm = alarms.raise_alarm(web.system, camera="cam1", kind="offline", detail="no frames")
    console = web.console("op")
    page = console.get("/recordings").text
    assert 'id="alarm-ack"' in page and 'name="next" value="/recordings"' in page
    forged = console.post(f"/alarms/{alarm.id}/ack", data={"next": "/recordings"})
    assert forged.status_code == 403  # no CSRF token: refused, nothing acknowledged
    assert alarms.get_alarm(web.system, web.cast["op"], alarm.id).acked_by is None
    done = console.submit(f"/alarms/{alarm.id}/ack", {"next": "/recordings"})
    assert done.status_code == 303 and done.headers["location"] == "/recordings"
    assert alarms.get_alarm(web.system, web.cast["op"], alarm.id).acked_by == "op"
    other = alarms.raise_alarm(web.system, camera="cam1", kind="covered", detail="dark")
    away = console.submit(f"/alarms/{other.id}/ack", {"next": "//evil.example/"})
    assert away.headers["location"] == "/health"  # never off the site


def test_a_stream_outlives_the_servers_header_and_body_timeouts(web: Web) -> None:
    # `oversight serve` bounds slow requests (finding 15); a stream is a slow response,
    # not a slow request, and must stay open past those deadlines.
    token = cookie(web, "op")
    with (
        serve(
            http_header_timeout_s="1",
            http_body_timeout_s="1",
            http_keep_alive_timeout_s="1",
            alarm_stream_keepalive_s="1",
        ) as server,
        stream(server, token) as reply,
    ):
        assert reply.status == 200
        seen = events(reply, 4, seconds=8)
    assert seen[0][0] == "alarms"
    assert seen[1:] == [("comment", "keep-alive")] * 3


def test_a_stream_ends_at_its_age_limit_for_the_browser_to_reopen(
    web: Web, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The setting is read per stream: the shortest age the setting allows.
    monkeypatch.setattr(web.system.settings, "alarm_stream_max_age_s", 5.0)
    with stream(live_server, cookie(web, "op")) as reply:
        start = time.monotonic()
        seen = events(reply, 20, seconds=9)
        lasted = time.monotonic() - start
    assert seen[0][0] == "alarms" and ("ended", {}) not in seen  # not a logout
    assert 4 <= lasted < 9 and reply.lines.get(timeout=1) is None  # the server closed it


def test_an_open_stream_does_not_hold_the_server_from_stopping(web: Web) -> None:
    token = cookie(web, "op")
    with serve(http_shutdown_grace_s="1") as server, stream(server, token) as reply:
        assert events(reply, 1)[0][0] == "alarms"
        server.process.send_signal(signal.SIGINT)
        start = time.monotonic()
        server.process.wait(timeout=12)
        assert time.monotonic() - start < 10
