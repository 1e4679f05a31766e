"""The monitor's rules without a stream: a rate collapse must last before it alarms and
clears when the rate recovers; the health CLI refuses what it cannot do."""

from __future__ import annotations

from oversight import bootstrap
from oversight.health.monitor import CameraWatch, Monitor, MonitorOptions
from oversight.health.probe import LiveProbe, StreamStats
from oversight.services import alarms
from tests.actors import HOST
from tests.conftest import Env
from tests.recorder.helpers import add_camera


def _watch(system: bootstrap.System) -> tuple[Monitor, CameraWatch]:
    add_camera(system, "cam1", "rtsp://127.0.0.1:9/cam1")
    monitor = Monitor(system, MonitorOptions(collapse_ratio=0.3, collapse_after=20.0))
    watch = CameraWatch("cam1", "rtsp://127.0.0.1:9/cam1", baseline=(15.0, 2000.0))
    watch.probe = LiveProbe(watch.url)  # never started: only its start time is read
    watch.probe.started_at = -1000.0
    return monitor, watch


def test_a_bitrate_collapse_alarms_only_after_it_lasts_and_clears_on_recovery(
    system: bootstrap.System,
) -> None:
    monitor, watch = _watch(system)
    low = StreamStats(fps=15.0, kbps=300.0, last_packet_at=0.0, packets=1)
    monitor._rates(watch, low, now=100.0)
    monitor._rates(watch, low, now=119.0)
    assert alarms.list_alarms(system, HOST, open_only=True) == []  # 19 s: not yet
    monitor._rates(watch, low, now=120.5)
    [alarm] = alarms.list_alarms(system, HOST, open_only=True)
    assert (alarm.kind, alarm.camera) == ("bitrate_collapse", "cam1")
    assert "300.0 kbit/s against a normal 2000.0 kbit/s" in alarm.detail
    monitor._rates(watch, StreamStats(15.0, 1900.0, 0.0, 2), now=121.5)
    assert alarms.list_alarms(system, HOST, open_only=True) == []


def test_a_frame_rate_collapse_is_its_own_alarm(system: bootstrap.System) -> None:
    monitor, watch = _watch(system)
    slow = StreamStats(fps=2.0, kbps=1900.0, last_packet_at=0.0, packets=1)
    monitor._rates(watch, slow, now=10.0)
    monitor._rates(watch, slow, now=31.0)
    assert [a.kind for a in alarms.list_alarms(system, HOST, open_only=True)] == [
        "framerate_collapse"
    ]


def test_health_learn_needs_a_login_and_a_registered_camera(initialised: Env) -> None:
    assert "log in first" in initialised.fails("health", "learn", "cam1").output
    initialised.run(
        "init", "--admin-id", "boss", "--admin-password-stdin", input="a long password 1\n"
    )
    login = initialised.run(
        "login", "--user", "boss", "--password-stdin", input="a long password 1\n"
    )
    assert login.exit_code == 0, login.output
    before = initialised.counts()
    refused = initialised.fails("health", "learn", "cam9")
    assert "camera cam9 is not registered" in refused.output
    assert initialised.counts() == before
