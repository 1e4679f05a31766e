"""Finding 4 end to end: cameras registered with secret URLs of every form, then every
path that builds a ledger leaf or stores text (register, gaps, status, events,
quarantine, alarms, health) fed text that quotes the URL; no secret may appear in any
ledger leaf, any text column of any table, the API, the console (a role-less user's
dashboard included), the CLI, or the logs. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import create_engine, inspect, text

from oversight.services import alarms, people, recording
from tests.web.conftest import PW, Web

# Each secret holds the marker "Zq~", which no host, path, id or message of these tests holds.
URLS = {
    # An unescaped '/' and '@' in the password.
    "cam-ui": "rtsp://admin:p@ss/w@rdZq~1@10.0.0.5:554/live",
    # Credentials in the query string.
    "cam-q": "rtsp://10.0.0.6/live?user=adminZq~2&password=Zq~2secret&channel=1",
    # A token in any case, and a percent-encoded password.
    "cam-tok": "http://10.0.0.7/mjpg/video.cgi?resolution=640x480&TOKEN=Zq~3tok",
    "cam-pct": "rtsp://admin:Zq~4%40%2Fsecret@10.0.0.8/stream1",
    # The path form of some cameras (/user=...&password=...).
    "cam-path": "rtsp://10.0.0.9:554/user=admin&password=Zq~5pw&channel=1&stream=0.sdp",
    # Several '@', a '?' and '#' in the password, and an api key.
    "cam-odd": "rtsps://op:Zq~6?a#b@c@10.0.0.10/ch1?ApiKey=Zq~6key",
}
# The secret of each, as the camera knows it (percent-decoded).
SECRETS = {
    "cam-ui": "p@ss/w@rdZq~1",
    "cam-q": "Zq~2secret",
    "cam-tok": "Zq~3tok",
    "cam-pct": "Zq~4@/secret",
    "cam-path": "Zq~5pw",
    "cam-odd": "Zq~6?a#b@c",
}
MARKER = "Zq~"  # "~" is in no base64 or hex: no token or hash holds it by chance


def _secret_free(blob: str, where: str) -> None:
    for form in (blob, unquote(blob)):
        assert MARKER not in form, f"a stream secret leaked into {where}: {blob[:400]}"


def _register(web: Web) -> None:
    web.env.ok("orgs", "add", "--id", "acme", "--name", "Acme", "--kind", "owner")
    web.env.ok(
        "sites", "add", "--id", "s1", "--name", "S1", "--category", "school", "--owner", "acme"
    )
    for cam, url in URLS.items():
        if cam == "cam-odd":  # one through the API
            reply = web.api("op").post(
                "/api/v1/cameras",
                json={
                    "id": cam,
                    "site_id": "s1",
                    "placement": "general",
                    "coverage": "entrance",
                    "stream_url": url,
                    "commissioned": "2026-01-05",
                },
            )
            assert reply.status_code == 201, reply.text
            _secret_free(reply.text, "the API's reply to a registration")
            continue
        out = web.env.ok(
            "cameras", "add", "--id", cam, "--site", "s1", "--placement", "general",
            "--coverage", "entrance", "--stream", url, "--commissioned", "2026-01-05",
        )  # fmt: skip
        _secret_free(out.output, "the CLI's reply to a registration")


def _feed(web: Web) -> None:
    """Every text the recorder and the monitor store, quoting the URL the way ffmpeg
    does, with the password alone, and percent-encoded."""
    system = web.system
    now = datetime.now(UTC)
    for i, (cam, url) in enumerate(URLS.items()):
        secret = SECRETS[cam]
        quoted = (
            f"[rtsp @ 0x55d] method DESCRIBE failed on '{url}': 401 Unauthorized; "
            f"password {secret} ; encoded {quote(secret, safe='')}"
        )
        start = now - timedelta(hours=2, minutes=i)
        recording.record_gap(
            system, camera=cam, start=start, end=start + timedelta(seconds=30), reason=quoted
        )
        recording.set_status(
            system, cam, state="reconnecting", since=now, last_error=f"ffmpeg exited: {quoted}"
        )
        recording.record_event(system, camera=cam, kind="warning", message=quoted)
        recording.record_event(system, camera=None, kind="warning", message=quoted)
        recording.record_quarantine(
            system, camera=cam, filename=f"{cam}.mp4", path=f"/spool/{cam}.mp4",
            reason=quoted, size=1, sha256="0" * 64,
        )  # fmt: skip
        alarm = alarms.raise_alarm(system, camera=cam, kind="offline", detail=quoted)
        alarms.clear_alarm(system, camera=cam, kind="offline")
        assert alarm.id


def _scan_database(web: Web) -> None:
    engine = create_engine(web.env.url)
    try:
        with engine.connect() as conn:
            for table in inspect(engine).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    _secret_free(repr(tuple(row)), f"table {table}")
            leaves = conn.execute(text("SELECT data FROM ledger_leaves")).scalars().all()
            assert len(leaves) > 3 * len(URLS)
            for data in leaves:
                _secret_free(bytes(data).decode(), "a ledger leaf")
    finally:
        engine.dispose()


def test_no_stream_secret_reaches_any_output_table_leaf_or_log(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    people.add_user(
        web.system, web.cast["boss"], user_id="nobody", name="Nobody", roles=[],
        id_doc="NOBO0001", password=PW,
    )  # fmt: skip
    _register(web)
    _feed(web)

    _scan_database(web)
    for args in (
        ("cameras", "list"),
        ("cameras", "list", "--json"),
        *(("cameras", "show", cam) for cam in URLS),
        *(("cameras", "show", cam, "--json") for cam in URLS),
        ("gaps", "list", "--json"),
        ("segments", "quarantined", "--json"),
        ("cameras", "status", "--json"),
        ("ledger", "list", "--limit", "1000", "--json"),
    ):
        result = web.env.run(*args)
        _secret_free(result.output, f"`oversight {' '.join(args)}`")
    api = web.api("op")
    for path in ("/api/v1/cameras", *(f"/api/v1/cameras/{c}" for c in URLS)):
        reply = api.get(path)
        assert reply.status_code == 200, reply.text
        _secret_free(reply.text, f"GET {path}")
    for user in ("op", "aud", "nobody"):
        console = web.console(user)
        for page in ("/", "/registry", *(f"/recordings/{c}" for c in URLS)):
            _secret_free(console.get(page).text, f"the console page {page} of {user}")
    _secret_free(caplog.text, "the logs")
    # The registered stream still shows where it points, with the secrets masked.
    shown = json.loads(web.env.ok("cameras", "show", "cam-q", "--json").output)["stream"]
    assert shown == "rtsp://10.0.0.6/live?user=***&password=***&channel=1"
    shown = json.loads(web.env.ok("cameras", "show", "cam-ui", "--json").output)["stream"]
    assert shown == "rtsp://***@10.0.0.5:554/live"
