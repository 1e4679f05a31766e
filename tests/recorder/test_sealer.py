"""The sealer at each crash point, on SQLite and PostgreSQL. A crash is simulated by
running the steps before it directly and then what a restart runs (a rescan of the
spool); the database, store and ffprobe are all real."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from oversight import bootstrap
from oversight.db import models as m
from oversight.recorder import procfs, sealer
from oversight.services import recording
from oversight.services.sealing import file_sha256, seal_file
from tests.actors import HOST
from tests.recorder.helpers import add_camera, make_clip, needs_ffmpeg

pytestmark = [pytest.mark.ffmpeg, needs_ffmpeg]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=3.0)


@pytest.fixture
def spool(system: bootstrap.System) -> Path:
    add_camera(system, "cam1", "rtsp://127.0.0.1:1/cam1")
    directory = sealer.spool_dir(system, "cam1")
    directory.mkdir(parents=True)
    return directory


def counts(system: bootstrap.System) -> tuple[int, int, int]:
    """(segment rows, segment_sealed leaves, quarantine rows)."""
    with system.sessions() as s:
        segments = s.scalar(select(func.count()).select_from(m.Segment))
        sealed = s.scalar(
            select(func.count())
            .select_from(m.LedgerLeaf)
            .where(m.LedgerLeaf.kind == "segment_sealed")
        )
        quarantined = s.scalar(select(func.count()).select_from(m.QuarantinedSegment))
    return int(segments or 0), int(sealed or 0), int(quarantined or 0)


def put(clip: Path, spool: Path, name: str) -> Path:
    target = spool / name
    shutil.copyfile(clip, target)
    return target


def test_a_segment_is_probed_sealed_stored_and_removed_from_the_spool(
    system: bootstrap.System, spool: Path, clip: Path
) -> None:
    path = put(clip, spool, "r1-00000000.mp4")
    digest, size = file_sha256(path)
    end = datetime(2026, 5, 1, 12, 0, 10, tzinfo=UTC)
    outcome = sealer.seal_spool_file(system, camera="cam1", path=path, end=end, clock_offset_ms=7)
    assert outcome.sealed is not None and outcome.probe is not None
    assert outcome.sealed.sha256 == digest and outcome.sealed.size == size
    assert outcome.sealed.end == end
    # Start is the receipt time minus the duration of the video in the file.
    assert outcome.start == end - timedelta(seconds=outcome.probe.duration)
    assert not path.exists()
    assert system.store.size(outcome.sealed.storage_key) == size
    assert counts(system) == (1, 1, 0)
    [listed] = recording.list_segments(system, HOST, camera="cam1")
    assert (listed.start, listed.end, listed.seq) == (outcome.start, end, 1)


def test_crash_before_the_seal_the_rescan_seals_every_leftover_once_in_order(
    system: bootstrap.System, spool: Path, clip: Path
) -> None:
    first = put(clip, spool, "20260501T120000000000Z-00000000.mp4")
    second = spool / "20260501T120000000000Z-00000001.mp4"
    make_clip(second, seconds=2.0)
    done = sealer.seal_leftovers(system, camera="cam1", busy=lambda p: False)
    assert done == [first, second]
    assert counts(system) == (2, 2, 0)
    assert [s.seq for s in recording.list_segments(system, HOST, camera="cam1")] == [1, 2]
    assert sealer.leftovers(spool) == []
    # A second rescan finds nothing to do.
    assert sealer.seal_leftovers(system, camera="cam1", busy=lambda p: False) == []
    assert counts(system) == (2, 2, 0)


def test_crash_after_the_seal_before_the_spool_file_is_removed(
    system: bootstrap.System, spool: Path, clip: Path
) -> None:
    path = put(clip, spool, "r1-00000000.mp4")
    now = datetime.now(UTC)
    sealed = seal_file(system, camera="cam1", path=path, start=now - timedelta(seconds=3), end=now)
    assert path.exists()  # the crash: the file was never removed
    sealer.seal_leftovers(system, camera="cam1", busy=lambda p: False)
    assert not path.exists()
    assert counts(system) == (1, 1, 0)
    [listed] = recording.list_segments(system, HOST, camera="cam1")
    assert listed.id == sealed.id


def test_a_partial_segment_from_a_killed_ffmpeg_is_sealed_with_what_it_holds(
    system: bootstrap.System, spool: Path, clip: Path
) -> None:
    data = clip.read_bytes()
    partial = spool / "r1-00000003.mp4"
    partial.write_bytes(data[: len(data) * 7 // 10])
    end = datetime.now(UTC)
    outcome = sealer.seal_spool_file(system, camera="cam1", path=partial, end=end)
    assert outcome.sealed is not None and outcome.probe is not None
    assert outcome.probe.truncated and 0.5 < outcome.probe.duration < 3.0
    assert counts(system) == (1, 1, 0)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty file"), (b"\x00\x00\x00\x18ftypisom", "unreadable segment")],
)
def test_an_unsealable_file_is_quarantined_with_its_reason_never_dropped(
    system: bootstrap.System, spool: Path, content: bytes, reason: str
) -> None:
    path = spool / "r1-00000009.mp4"
    path.write_bytes(content)
    outcome = sealer.seal_spool_file(system, camera="cam1", path=path, end=datetime.now(UTC))
    assert outcome.sealed is None and outcome.quarantined is not None
    assert reason in outcome.quarantined.reason
    kept = system.settings.data_dir / outcome.quarantined.path
    assert kept == sealer.quarantine_dir(system, "cam1") / path.name
    assert kept.read_bytes() == content and not path.exists()
    [row] = recording.list_quarantined(system, "cam1")
    assert row.size == len(content) and row.sha256 == file_sha256(kept)[0]
    assert counts(system) == (0, 0, 1)


def test_crash_between_recording_a_quarantine_and_moving_the_file(
    system: bootstrap.System, spool: Path
) -> None:
    path = spool / "r1-00000002.mp4"
    path.write_bytes(b"garbage" * 100)
    digest, size = file_sha256(path)
    recording.record_quarantine(
        system,
        camera="cam1",
        filename=path.name,
        path="quarantine/cam1/r1-00000002.mp4",
        reason="unreadable segment: first try",
        size=size,
        sha256=digest,
    )
    sealer.seal_leftovers(system, camera="cam1", busy=lambda p: False)
    [row] = recording.list_quarantined(system, "cam1")
    assert row.reason == "unreadable segment: first try"
    assert (sealer.quarantine_dir(system, "cam1") / path.name).exists() and not path.exists()


def test_files_still_open_in_some_process_are_left_alone(
    system: bootstrap.System, spool: Path, clip: Path
) -> None:
    path = put(clip, spool, "r1-00000000.mp4")
    with path.open("rb"):
        held = procfs.open_files_under(spool)
        assert held == {path.resolve()}
        assert (
            sealer.seal_leftovers(system, camera="cam1", busy=lambda p: p.resolve() in held) == []
        )
    assert path.exists() and counts(system) == (0, 0, 0)
    assert procfs.open_files_under(spool) == set()
