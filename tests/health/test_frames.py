"""health/frames.py on real ffmpeg-made segments; the pure keyframe argv builder."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from oversight.errors import InvalidInput, NotFound
from oversight.health.frames import iter_keyframes, read_keyframes
from oversight.media.ffmpeg import KeyframePlan, build_keyframe_command

from .conftest import needs_ffmpeg


def test_keyframe_argv_decodes_keyframes_only_to_raw_grey() -> None:
    argv = build_keyframe_command(KeyframePlan(url="/data/seg 1.mp4", max_frames=3))
    assert argv[argv.index("-skip_frame") + 1] == "nokey"
    assert argv.index("-skip_frame") < argv.index("-i")  # a decoder option: before the input
    assert argv[argv.index("-i") + 1] == "file:/data/seg 1.mp4"
    assert "-re" not in argv and "-stream_loop" not in argv  # a file is read once, at speed
    assert argv[argv.index("-pix_fmt") + 1] == "gray"
    assert argv[argv.index("-vf") + 1] == "scale=320:180:flags=area"
    assert argv[argv.index("-fps_mode") + 1] == "passthrough"
    assert argv[argv.index("-frames:v") + 1] == "3"
    assert argv[-3:] == ["-f", "rawvideo", "pipe:1"]


def test_keyframe_argv_has_a_timeout_on_network_inputs() -> None:
    rtsp = build_keyframe_command(KeyframePlan(url="rtsp://cam/1", input_timeout=4))
    assert rtsp[rtsp.index("-timeout") + 1] == "4000000"
    assert rtsp[rtsp.index("-rtsp_transport") + 1] == "tcp"
    http = build_keyframe_command(KeyframePlan(url="http://cam/mjpeg", input_timeout=2.5))
    assert http[http.index("-rw_timeout") + 1] == "2500000"


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (KeyframePlan(url="ftp://cam/1"), "unsupported stream scheme"),
        (KeyframePlan(url="rtsp://cam/1", input_timeout=0), "timeout must be positive"),
        (KeyframePlan(url="a.mp4", width=8), "keyframe size"),
        (KeyframePlan(url="a.mp4", max_frames=0), "at least 1"),
    ],
)
def test_keyframe_argv_refuses_bad_plans(plan: KeyframePlan, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build_keyframe_command(plan)


@needs_ffmpeg
@pytest.mark.ffmpeg
@pytest.mark.parametrize(("seconds", "gop", "expected"), [(6, 20, 3), (6, 10, 6), (5, 5, 10)])
def test_keyframes_of_a_fragmented_mp4_segment_match_its_gop(
    make_clip: Callable[..., Path], seconds: int, gop: int, expected: int
) -> None:
    clip = make_clip(seconds=seconds, fps=10, gop=gop)
    frames = read_keyframes(clip)
    assert len(frames) == expected
    for frame in frames:
        assert frame.shape == (180, 320) and frame.dtype == np.uint8
    assert 60 < float(frames[0].mean()) < 200  # testsrc2, not a black or garbage frame


@needs_ffmpeg
@pytest.mark.ffmpeg
def test_max_frames_size_and_file_urls(make_clip: Callable[..., Path]) -> None:
    clip = make_clip(seconds=6, fps=10, gop=10)
    assert len(read_keyframes(f"file:{clip}", max_frames=2)) == 2
    [small] = read_keyframes(clip, max_frames=1, width=64, height=36)
    assert small.shape == (36, 64)
    iterator = iter_keyframes(clip)
    assert next(iterator).shape == (180, 320)
    iterator.close()  # stops ffmpeg early without an error


@needs_ffmpeg
@pytest.mark.ffmpeg
def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such segment file"):
        read_keyframes(tmp_path / "nope.mp4")


@needs_ffmpeg
@pytest.mark.ffmpeg
def test_a_file_that_is_not_video_is_invalid(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(InvalidInput, match="cannot read keyframes"):
        read_keyframes(junk)
    audio = tmp_path / "audio.m4a"
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=d=1",
            "-c:a",
            "aac",
            str(audio),
        ],
        check=True,
        timeout=30,
    )
    with pytest.raises(InvalidInput, match=r"audio\.m4a: cannot read keyframes"):
        read_keyframes(audio)


@needs_ffmpeg
@pytest.mark.ffmpeg
def test_a_truncated_segment_keeps_its_complete_keyframes(
    make_clip: Callable[..., Path], tmp_path: Path
) -> None:
    clip = make_clip(seconds=6, fps=10, gop=10)
    cut = tmp_path / "cut.mp4"
    data = clip.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])  # a recorder killed mid-write
    frames = read_keyframes(cut)
    assert 1 <= len(frames) < 6


@needs_ffmpeg
@pytest.mark.ffmpeg
def test_an_unreachable_stream_fails_with_the_password_hidden() -> None:
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"rtsp://admin:hunter22@127.0.0.1:{port}/live"
    with pytest.raises(InvalidInput) as caught:
        read_keyframes(url, max_frames=1, input_timeout=2)
    assert "hunter22" not in str(caught.value)
    assert "cannot read keyframes" in str(caught.value)


@needs_ffmpeg
@pytest.mark.ffmpeg
def test_a_silent_stream_times_out() -> None:
    """A server that accepts the connection and never answers: the frame deadline ends it."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/mjpeg"
        with pytest.raises(InvalidInput, match="no keyframe within 2 s"):
            read_keyframes(url, max_frames=1, frame_timeout=2, input_timeout=30)


@needs_ffmpeg
@pytest.mark.ffmpeg
def test_keyframes_of_a_live_rtsp_stream() -> None:
    """A simulated camera (keyframe every 2 s) behind the RTSP relay: frames arrive one
    by one, and leaving the iterator stops ffmpeg."""
    from oversight.sim.cameras import SimulatedCamera
    from oversight.sim.rtsp_relay import RelayThread

    with RelayThread() as relay, SimulatedCamera(relay.url("cam1"), bitrate_kbps=500) as cam:
        frames = read_keyframes(cam.url, max_frames=2, frame_timeout=10)
    assert len(frames) == 2
    assert all(f.shape == (180, 320) and 60 < float(f.mean()) < 200 for f in frames)
