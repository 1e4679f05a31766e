"""Issue 22: coverage counts cameras that are actually recording. Registering a camera
that never sent a frame cleared the Art. 7 key-part finding while Health showed it
offline; now only a camera whose recorder says, freshly, that it records covers a point."""

from __future__ import annotations

from datetime import timedelta

from oversight import bootstrap
from oversight.db import models as m
from oversight.domain.compliance import Finding
from oversight.services import compliance, recording, registry
from tests.actors import HOST
from tests.recorder.helpers import add_camera

KEY_PART = "key part"


def key_part_findings(system: bootstrap.System) -> list[Finding]:
    return [
        f
        for f in compliance.report(system).findings
        if f.rule == "coverage_required" and f.message.endswith(f"required {KEY_PART}")
    ]


def register(system: bootstrap.System, camera: str, point: str) -> None:
    """``camera`` at school s1, covering ``point`` (an entrance camera first: the org
    and site, and the entrance a school must cover)."""
    add_camera(system, "door", "rtsp://127.0.0.1:9/door")
    registry.add_camera(
        system,
        HOST,
        camera_id=camera,
        site_id="s1",
        placement="general",
        coverage=point,
        stream_url=f"rtsp://127.0.0.1:9/{camera}",
        commissioned=system.packs.local_date(system.clock.now()),
    )


def test_a_registered_camera_that_never_recorded_covers_nothing(
    system: bootstrap.System,
) -> None:
    register(system, "cam1", "key_part")
    [finding] = key_part_findings(system)  # registered, never a frame: the finding stays
    assert "registered but not recording: cam1" in finding.message
    assert finding.article.startswith("Art. 7")

    now = system.clock.now()
    recording.set_status(system, "cam1", state="offline", since=now)
    assert len(key_part_findings(system)) == 1  # offline covers nothing either

    recording.set_status(system, "cam1", state="recording", since=now, last_segment_at=now)
    assert key_part_findings(system) == []  # recording: the point is covered


def test_a_recorder_gone_silent_uncovers_its_cameras(system: bootstrap.System) -> None:
    register(system, "cam1", "key_part")
    long_ago = system.clock.now() - timedelta(seconds=recording.STALE_AFTER_S + 60)
    recording.set_status(system, "cam1", state="recording", since=long_ago)
    assert key_part_findings(system) == []
    # The status row was last touched long ago: the recorder is down, not recording.
    with system.sessions.begin() as s:
        s.get(m.CameraStatus, "cam1").updated_at = long_ago  # type: ignore[union-attr]
    assert len(key_part_findings(system)) == 1
