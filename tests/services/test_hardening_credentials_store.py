"""Finding 4: camera credentials kept apart from the stream URL, encrypted at rest under
keys/credentials.key; the recorder gets the full URL back only through
``credentials.open_url``; existing rows are moved by migration 0016. SQLite and
PostgreSQL."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from oversight import bootstrap
from oversight.config import Settings
from oversight.db import migrate
from oversight.errors import ConfigError
from oversight.health.monitor import Monitor, MonitorOptions
from oversight.recorder.state import RecorderOptions
from oversight.recorder.supervisor import Supervisor
from oversight.services import credentials, recording, schema
from tests.conftest import Env

SECRET = "Zq~p@ss/w0rd"
URL = f"rtsp://admin:{SECRET}@10.0.0.5:554/live?channel=1&token=Zq~tok"
STORED = "rtsp://***@10.0.0.5:554/live?channel=1&token=***"


def _seed(env: Env) -> None:
    env.ok("orgs", "add", "--id", "acme", "--name", "Acme", "--kind", "owner")
    env.ok("sites", "add", "--id", "s1", "--name", "S1", "--category", "school", "--owner", "acme")


def _add(env: Env, cam: str, stream: str, *extra: str, code: int = 0) -> str:
    args = (
        "cameras", "add", "--id", cam, "--site", "s1", "--placement", "general",
        "--coverage", "entrance", "--stream", stream, "--commissioned", "2026-01-05", *extra,
    )  # fmt: skip
    result = env.ok(*args) if code == 0 else env.fails(*args, code=code)
    return result.output


def _row(env: Env, cam: str) -> tuple[str, str | None]:
    engine = create_engine(env.url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT stream_url, credentials FROM cameras WHERE id = :c"), {"c": cam}
            ).one()
            return row[0], row[1]
    finally:
        engine.dispose()


def _source(env: Env, cam: str) -> str:
    system = bootstrap.build(Settings())
    try:
        [source] = recording.recordable_cameras(system, (cam,))
        assert "Zq~" not in repr(source)
        return credentials.open_url(system, source)
    finally:
        system.close()


def test_registering_splits_the_credentials_off_and_seals_them(initialised: Env) -> None:
    _seed(initialised)
    _add(initialised, "cam1", URL)
    stored, sealed = _row(initialised, "cam1")
    assert stored == STORED
    assert sealed is not None and "Zq~" not in sealed
    # Only the one function joins them again, for the recorder, probe and monitor.
    assert _source(initialised, "cam1") == URL
    keys = initialised.data_dir / "keys"
    key = credentials.key_path(keys)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700


def test_a_url_without_credentials_is_stored_as_given(initialised: Env) -> None:
    _seed(initialised)
    _add(initialised, "cam1", "rtsp://10.0.0.5:8554/cam1")
    assert _row(initialised, "cam1") == ("rtsp://10.0.0.5:8554/cam1", None)
    assert _source(initialised, "cam1") == "rtsp://10.0.0.5:8554/cam1"


def test_username_and_password_file_are_put_in_the_url_encoded(
    initialised: Env, tmp_path: Path
) -> None:
    _seed(initialised)
    pw = tmp_path / "pw"
    pw.write_text("Zq~a/b@c:d\n")
    out = _add(
        initialised,
        "cam1",
        "rtsp://10.0.0.5/live",
        "--username",
        "ad min",
        "--password-file",
        str(pw),
    )
    assert "Zq~" not in out
    assert _row(initialised, "cam1")[0] == "rtsp://***@10.0.0.5/live"
    assert _source(initialised, "cam1") == "rtsp://ad%20min:Zq~a%2Fb%40c%3Ad@10.0.0.5/live"


@pytest.mark.parametrize(
    ("stream", "extra", "message"),
    [
        (URL, ("--username", "x"), "already holds credentials"),
        ("rtsp://10.0.0.5/live", ("--password-file", "/nonexistent/pw"), "--password-file"),
        ("rtsp://10.0.0.5/live", ("--password-file", "{pw}"), "needs a username"),
    ],
)
def test_bad_login_options_are_refused_and_write_nothing(
    initialised: Env, tmp_path: Path, stream: str, extra: tuple[str, ...], message: str
) -> None:
    _seed(initialised)
    pw = tmp_path / "pw"
    pw.write_text("secret")
    before = initialised.counts()
    out = _add(initialised, "cam1", stream, *(e.format(pw=pw) for e in extra), code=2)
    assert message in out and len(out.strip().splitlines()) == 1
    assert initialised.counts() == before


def test_a_key_others_can_read_or_the_wrong_key_is_a_config_error(initialised: Env) -> None:
    _seed(initialised)
    _add(initialised, "cam1", URL)
    key = credentials.key_path(initialised.data_dir / "keys")
    key.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others: chmod 600"):
        _source(initialised, "cam1")
    key.chmod(0o600)
    key.write_bytes(b"aWNlY3JlYW1pY2VjcmVhbWljZWNyZWFtaWNlY3JlYW0=\n")  # another valid key
    with pytest.raises(ConfigError, match="wrong key"):
        _source(initialised, "cam1")
    key.unlink()
    with pytest.raises(ConfigError, match="does not exist"):
        _source(initialised, "cam1")


def test_the_migration_moves_existing_credentials_out_of_the_url(env: Env) -> None:
    """A database at 0015 with a plain-text password in a camera's URL: `oversight init`
    splits and seals it; the recorder still gets the same URL back."""
    settings = Settings()
    system = bootstrap.build(settings, require_schema=False)
    try:
        with system.engine.connect() as conn:
            cfg = migrate.alembic_config(system.engine.url.render_as_string(hide_password=False))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0015")
            conn.commit()
        with system.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organisations (id, name, kind, created_at) "
                    "VALUES ('acme', 'Acme', 'owner', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO sites (id, name, category, owner_id, created_at) "
                    "VALUES ('s1', 'S1', 'school', 'acme', CURRENT_TIMESTAMP)"
                )
            )
            for cam, url in (("cam1", URL), ("cam2", "rtsp://10.0.0.6/live")):
                conn.execute(
                    text(
                        "INSERT INTO cameras (id, site_id, placement, coverage_point, stream_url,"
                        " commissioned, privacy_masks, created_at, longest_segment_ms) VALUES "
                        "(:id, 's1', 'general', 'entrance', :url, '2026-01-05', '[]', "
                        "CURRENT_TIMESTAMP, 0)"
                    ),
                    {"id": cam, "url": url},
                )
        schema.upgrade(system)
    finally:
        system.close()
    assert _row(env, "cam1")[0] == STORED and _row(env, "cam2") == ("rtsp://10.0.0.6/live", None)
    assert _source(env, "cam1") == URL
    assert _source(env, "cam2") == "rtsp://10.0.0.6/live"


def test_a_refused_camera_with_credentials_writes_nothing_not_even_the_key(
    initialised: Env,
) -> None:
    _seed(initialised)
    before = initialised.counts()
    out = initialised.fails(
        "cameras", "add", "--id", "cam1", "--site", "s1", "--placement", "public_toilet",
        "--coverage", "entrance", "--stream", URL, "--commissioned", "2026-01-05",
    ).output  # fmt: skip
    assert "Art. 8" in out and "Zq~" not in out
    assert initialised.counts() == before
    assert not credentials.key_path(initialised.data_dir / "keys").exists()


def test_a_password_with_brackets_registers_and_opens(initialised: Env) -> None:
    # urlsplit takes "[" in the netloc for an IPv6 address and raised before.
    url = "rtsp://admin:Zq~[x]y@10.0.0.5/live"
    _seed(initialised)
    _add(initialised, "cam1", url)
    assert _row(initialised, "cam1")[0] == "rtsp://***@10.0.0.5/live"
    assert _source(initialised, "cam1") == url


def test_without_the_key_the_monitor_and_the_recorder_say_so_and_start_nothing(
    initialised: Env, caplog: pytest.LogCaptureFixture
) -> None:
    _seed(initialised)
    _add(initialised, "cam1", URL)
    credentials.key_path(initialised.data_dir / "keys").unlink()
    system = bootstrap.build(Settings())
    try:
        monitor = Monitor(system, MonitorOptions())
        for _ in range(3):
            monitor.step()
        assert monitor.watches["cam1"].probe is None
        supervisor = Supervisor(system, RecorderOptions())
        supervisor._sync_registry()
        supervisor._pool = ThreadPoolExecutor(1)  # as run() makes it
        try:
            supervisor._check(supervisor._cameras["cam1"])
        finally:
            supervisor._pool.shutdown()
        cam = supervisor._cameras["cam1"]
        assert cam.proc is None and cam.probing is None
        assert cam.last_error is not None and "credentials.key does not exist" in cam.last_error
    finally:
        system.close()
    warned = [r.getMessage() for r in caplog.records if "credentials.key" in r.getMessage()]
    assert warned and all("Zq~" not in w for w in warned)
    assert len([w for w in warned if "health of camera" in w]) == 1  # backs off, no flood
