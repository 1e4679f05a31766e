"""Finding 4 with real ffmpeg and RTSP on 127.0.0.1: a camera whose password holds
reserved characters (percent-encoded in its URL, as ffmpeg needs) is registered with
its credentials sealed, recorded through ``credentials.open_url``, killed so that a gap
is recorded, and its password appears in no table, leaf or log line. SQLite only (the
same paths run on PostgreSQL in tests/web/test_hardening_credentials_leaks.py)."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from sqlalchemy import create_engine, inspect, text

from oversight import bootstrap
from oversight.services import recording
from oversight.sim.cameras import SimulatedCamera
from oversight.sim.rtsp_relay import RelayThread
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import add_camera, needs_ffmpeg, supervising, wait_for

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.slow,
    needs_ffmpeg,
    pytest.mark.parametrize("database_url", [None]),
]

PASSWORD = "p@ss/w:rd?Zq~#9"


@pytest.fixture
def relay() -> Iterator[RelayThread]:
    with RelayThread(credentials=("viewer", PASSWORD)) as running:
        yield running


def test_a_camera_with_a_reserved_character_password_records_and_leaks_nowhere(
    initialised: Env,
    system: bootstrap.System,
    relay: RelayThread,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = relay.url("cam1", with_credentials=True)
    assert "Zq~" in unquote(url)
    with SimulatedCamera(url, width=320, height=180):
        add_camera(system, "cam1", url)
        with supervising(system, backoff_base=0.5) as sup:
            wait_for("a first segment", lambda: recording.list_segments(system, HOST))
            os.kill(sup.pids()["cam1"], signal.SIGKILL)
            wait_for("a gap", lambda: recording.list_gaps(system, HOST, "cam1"))
    engine = create_engine(initialised.url)
    try:
        with engine.connect() as conn:
            for table in inspect(engine).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    blob = repr(tuple(row))
                    if table == "ledger_leaves":
                        blob += bytes(row.data).decode()
                    assert "Zq~" not in blob and "Zq~" not in unquote(blob), table
    finally:
        engine.dispose()
    assert "Zq~" not in caplog.text and "Zq~" not in unquote(caplog.text)
