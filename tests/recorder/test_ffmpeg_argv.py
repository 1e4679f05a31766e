"""The pure ffmpeg argv builder and its helpers: tables of cases, no processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from oversight.errors import InvalidInput
from oversight.media.ffmpeg import (
    MOVFLAGS,
    RecordPlan,
    SourceInfo,
    _parse_list_line,
    build_record_command,
    input_options,
    input_target,
    new_run_id,
)
from oversight.recorder.state import backoff_delay
from oversight.redaction import scrub, secrets_of

WALLCLOCK = ["-use_wallclock_as_timestamps", "1"]

SPOOL = Path("/data/spool/cam1")
RTSP = "rtsp://admin:s3cret-pw@10.0.0.5:554/stream1"


def plan(**changes: object) -> RecordPlan:
    base: dict[str, object] = {
        "camera": "cam1",
        "url": RTSP,
        "spool_dir": SPOOL,
        "run_id": "20260101T000000000000Z",
        "source": SourceInfo("h264", "aac"),
    }
    base.update(changes)
    return RecordPlan(**base)  # type: ignore[arg-type]


def after(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


@pytest.mark.parametrize(
    ("url", "timeout", "expected"),
    [
        (RTSP, 10.0, ["-rtsp_transport", "tcp", "-timeout", "10000000"]),
        ("rtsps://h/x", 2.5, ["-rtsp_transport", "tcp", "-timeout", "2500000"]),
        ("http://cam/video.mjpg", 5.0, ["-rw_timeout", "5000000", *WALLCLOCK]),
        ("https://cam/live.ts", 1.0, ["-rw_timeout", "1000000", *WALLCLOCK]),
        ("file:///srv/replay.mp4", 10.0, ["-re", "-stream_loop", "-1"]),
        ("/srv/replay.mp4", 10.0, ["-re", "-stream_loop", "-1"]),
    ],
)
def test_every_input_gets_its_timeout_or_replay_options(
    url: str, timeout: float, expected: list[str]
) -> None:
    assert input_options(url, timeout) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (RTSP, RTSP),
        ("file:///srv/my%20clip.mp4", "file:/srv/my clip.mp4"),
        ("/srv/a:b.mp4", "file:/srv/a:b.mp4"),
    ],
)
def test_input_target(url: str, expected: str) -> None:
    assert input_target(url) == expected


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InvalidInput):
        input_options("gopher://x/y", 1.0)
    with pytest.raises(InvalidInput):
        input_options(RTSP, 0)
    with pytest.raises(InvalidInput):
        build_record_command(plan(segment_seconds=0))
    with pytest.raises(InvalidInput, match="no video"):
        build_record_command(plan(source=SourceInfo(None, "aac")))


def test_an_h264_aac_camera_is_copied_into_fragmented_mp4_segments() -> None:
    cmd = build_record_command(plan(segment_seconds=60))
    argv = cmd.argv
    assert argv[0] == "ffmpeg"
    assert after(argv, "-i") == RTSP
    assert argv.index("-rtsp_transport") < argv.index("-i")
    assert after(argv, "-timeout") == "10000000"
    assert after(argv, "-c:v") == "copy" and after(argv, "-c:a") == "copy"
    assert after(argv, "-f") == "segment"
    assert after(argv, "-segment_time") == "60"
    assert after(argv, "-reset_timestamps") == "1"
    assert after(argv, "-segment_format") == "mp4"
    assert (
        after(argv, "-segment_format_options")
        == f"movflags={MOVFLAGS}:frag_duration=1000000:flush_packets=1"
    )
    assert after(argv, "-segment_list") == "pipe:1"
    assert after(argv, "-segment_list_type") == "csv"
    assert argv[-1] == "/data/spool/cam1/20260101T000000000000Z-%08d.mp4"
    assert cmd.extension == "mp4" and cmd.warnings == ()
    assert "-nostdin" in argv


@pytest.mark.parametrize(
    ("source", "policy", "audio_args", "warned"),
    [
        (SourceInfo("h264", "aac"), "transcode", ["-map", "0:a:0", "-c:a", "copy"], None),
        (SourceInfo("h264", None), "transcode", ["-an"], None),
        (
            SourceInfo("hevc", "pcm_alaw"),
            "transcode",
            ["-map", "0:a:0", "-c:a", "aac", "-b:a", "32k"],
            "pcm_alaw",
        ),
        (
            SourceInfo("h264", "pcm_mulaw"),
            "transcode",
            ["-map", "0:a:0", "-c:a", "aac", "-b:a", "32k"],
            "pcm_mulaw",
        ),
        (SourceInfo("h264", "pcm_mulaw"), "drop", ["-an"], "dropped"),
        (None, "transcode", ["-map", "0:a:0?", "-c:a", "aac"], "not probed"),
    ],
)
def test_audio_is_copied_when_mp4_holds_it_else_transcoded_or_dropped_with_a_warning(
    source: SourceInfo | None, policy: str, audio_args: list[str], warned: str | None
) -> None:
    cmd = build_record_command(plan(source=source, audio_policy=policy))
    joined = " ".join(cmd.argv)
    assert " ".join(audio_args) in joined
    assert after(cmd.argv, "-c:v") == "copy"  # video is never transcoded
    if warned is None:
        assert cmd.warnings == ()
    else:
        assert len(cmd.warnings) == 1 and warned in cmd.warnings[0]


def test_h265_is_copied_with_the_hvc1_tag_and_mjpeg_goes_into_matroska() -> None:
    hevc = build_record_command(plan(source=SourceInfo("hevc", None)))
    assert after(hevc.argv, "-tag:v") == "hvc1" and hevc.extension == "mp4"
    mjpeg = build_record_command(plan(source=SourceInfo("mjpeg", None), url="http://c/v.mjpg"))
    assert mjpeg.extension == "mkv"
    assert after(mjpeg.argv, "-segment_format") == "matroska"
    assert "-segment_format_options" not in mjpeg.argv
    assert mjpeg.argv[-1].endswith("-%08d.mkv")
    assert after(mjpeg.argv, "-c:v") == "copy"
    assert any("Matroska" in w for w in mjpeg.warnings)


def test_percent_signs_in_the_spool_path_are_escaped_for_the_segment_muxer() -> None:
    cmd = build_record_command(plan(spool_dir=Path("/data/100%/spool/cam1")))
    assert cmd.argv[-1] == "/data/100%%/spool/cam1/20260101T000000000000Z-%08d.mp4"
    assert cmd.output_pattern == "/data/100%/spool/cam1/20260101T000000000000Z-%08d.mp4"


def test_the_plan_never_shows_the_url_in_its_repr() -> None:
    assert "s3cret" not in repr(plan())
    assert "s3cret" not in repr(build_record_command(plan()))


def test_run_ids_sort_in_time_order_whatever_the_time_zone() -> None:
    t = datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=UTC)
    later = (t + timedelta(microseconds=1)).astimezone(timezone(timedelta(hours=8)))
    assert new_run_id(t) == "20260301T120000000005Z"
    assert new_run_id(later) > new_run_id(t)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a-00000001.mp4,2.000000,4.000000", ("a-00000001.mp4", 2.0, 4.0)),
        ('"odd,name.mp4",0.0,1.5', ("odd,name.mp4", 0.0, 1.5)),
        ("../escape.mp4,0,1", None),
        ("garbage", None),
        ("x.mp4,zero,1", None),
    ],
)
def test_segment_list_lines(line: str, expected: tuple[str, float, float] | None) -> None:
    assert _parse_list_line(line) == expected


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        (
            "rtsp://admin:hunter22@10.0.0.5/s: Connection refused",
            None,
            "rtsp://***@10.0.0.5/s: Connection refused",
        ),
        (
            "401 for user admin with hunter22",
            "rtsp://admin:hunter22@h/s",
            "401 for user admin with ***",
        ),
        ("pw%40x and pw@x", "rtsp://u:pw%40x@h/s", "*** and ***"),
        ("no secrets here", "rtsp://u:ab@h/s", "no secrets here"),
    ],
)
def test_scrub_masks_credentials(text: str, url: str | None, expected: str) -> None:
    assert scrub(text, secrets_of(url)) == expected


@pytest.mark.parametrize(
    ("failures", "rand", "expected"),
    [
        (1, 0.0, 0.5),
        (1, 0.999999, 0.9999995),
        (2, 0.0, 1.0),
        (3, 0.5, 3.0),
        (6, 0.0, 10.0),  # 32 s capped at 20, then jitter
        (1000, 0.0, 10.0),
    ],
)
def test_backoff_is_exponential_capped_and_jittered(
    failures: int, rand: float, expected: float
) -> None:
    assert backoff_delay(failures, 1.0, 20.0, rand) == pytest.approx(expected)
