"""Many simulated cameras from a few shared encoders: relay aliases, read by real ffmpeg."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest

from oversight.errors import InvalidInput
from oversight.sim.cameras import (
    EncoderSpec,
    SimulatedCamera,
    SimulatedCameraSet,
    describe_status,
    mask_png,
)
from oversight.sim.rtsp_relay import RelayThread
from tests.sim.helpers import probe, read, reader_argv, stream, wait_for

SMALL: dict[str, Any] = {"width": 320, "height": 180, "fps": 10}


@pytest.mark.ffmpeg
def test_alias_paths_serve_one_encoder_to_several_readers(
    relay: RelayThread, camera: Any, spawn: Any, tmp_path: Path
) -> None:
    camera(relay.url("enc1"), **SMALL)
    for name in ("cam1", "cam2", "cam3"):
        relay.alias(name, "enc1")
    outs = [tmp_path / f"cam{i}.mp4" for i in (1, 2, 3)]
    readers = [spawn(reader_argv(relay.url(out.stem), out, 2)) for out in outs]
    assert [r.wait(timeout=15) for r in readers] == [0, 0, 0]
    for out in outs:
        info = probe(out)
        assert stream(info, "video")["codec_name"] == "h264"
        assert int(stream(info, "video")["nb_read_packets"]) > 15
    assert describe_status(relay.url("cam4")) == 404


@pytest.mark.ffmpeg
def test_set_shares_encoders_and_one_camera_can_die(spawn: Any, tmp_path: Path) -> None:
    with SimulatedCameraSet(4, encoders=2, log_dir=tmp_path, **SMALL) as cams:
        assert len(cams) == 4 and len(cams.encoders) == 2
        assert [c.encoder for c in cams] == [cams.encoders[i] for i in (0, 1, 0, 1)]
        assert [describe_status(url) for url in cams.urls] == [200] * 4
        # cam2 and cam4 share enc2; cam2 dies (its reader ends, it is refused), cam4 goes on.
        doomed = spawn(reader_argv(cams[1].url, tmp_path / "cam2.mkv", None))
        survivor = spawn(reader_argv(cams[3].url, tmp_path / "cam4.mkv", None))
        wait_for(lambda: cams.relay.readers("cam2") == cams.relay.readers("cam4") == 1, 8)
        cams[1].kill()
        assert not cams[1].running and cams[3].running
        doomed.wait(timeout=5)
        assert survivor.poll() is None
        failed = read(cams[1].url, tmp_path / "refused.mp4", seconds=1)
        assert failed.returncode != 0 and "404" in failed.stderr
        cams[1].restore()
        done = read(cams[1].url, tmp_path / "back.mp4", seconds=1.5)
        assert done.returncode == 0, done.stderr
        assert int(stream(probe(tmp_path / "back.mp4"), "video")["nb_read_packets"]) > 8
        survivor.terminate()
        survivor.wait(timeout=5)
        url = cams.urls[0]
    assert sorted(p.name for p in tmp_path.glob("enc*.log")) == ["enc1.log", "enc2.log"]
    with pytest.raises(OSError):
        describe_status(url)  # the set stopped the relay it started


@pytest.mark.ffmpeg
def test_mixed_encoder_groups(relay: RelayThread, tmp_path: Path) -> None:
    small = EncoderSpec(width=320, height=180, fps=10)
    groups = [small, dataclasses.replace(small, audio="pcmu", picture="covered")]
    with SimulatedCameraSet(2, relay=relay, encoders=groups) as cams:
        done = read(cams[1].url, tmp_path / "covered.mkv", seconds=1.5)
        assert done.returncode == 0, done.stderr
        info = probe(tmp_path / "covered.mkv")
        assert stream(info, "audio")["codec_name"] == "pcm_mulaw"
        black = subprocess.run(
            ["ffmpeg", "-v", "info", "-i", str(tmp_path / "covered.mkv"), "-vf",
             "blackdetect=d=0.5:pic_th=0.9", "-an", "-f", "null", "-"],
            capture_output=True, text=True, timeout=20, check=True,
        )  # fmt: skip
        assert "black_start" in black.stderr
    assert describe_status(relay.url("cam1")) == 404  # a shared relay loses the set's aliases


def test_set_arguments() -> None:
    with pytest.raises(InvalidInput, match="at least one camera"):
        SimulatedCameraSet(0)
    with pytest.raises(InvalidInput, match="3 encoders for 2 cameras"):
        SimulatedCameraSet(2, encoders=3)


def _mean_luma(url: str, seconds: float) -> list[float]:
    """Mean brightness of each frame a real ffmpeg reads from ``url`` for ``seconds``."""
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-rtsp_transport", "tcp"]
    argv += ["-i", url, "-t", str(seconds), "-vf", "scale=32:18", "-pix_fmt", "gray"]
    done = subprocess.run(
        [*argv, "-f", "rawvideo", "-"], capture_output=True, timeout=seconds + 15, check=True
    )
    size = 32 * 18
    data = done.stdout
    return [sum(data[i : i + size]) / size for i in range(0, len(data) - size + 1, size)]


def test_a_mask_png_is_one_colour_rgba() -> None:
    import zlib

    png = mask_png(4, 2, opaque=True)
    assert (
        png.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in png and png.endswith(b"IEND\xaeB`\x82")
    )
    idat = png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8]
    assert zlib.decompress(idat) == (b"\x00" + b"\x00\x00\x00\xff" * 4) * 2


@pytest.mark.ffmpeg
def test_a_switchable_camera_is_covered_and_uncovered_while_it_streams(
    tmp_path: Path,
) -> None:
    spec = EncoderSpec(**SMALL, switchable=True)
    with SimulatedCameraSet(1, encoders=[spec], log_dir=tmp_path) as cams:
        feed = cams[0]
        pid = feed.encoder.pid
        assert min(_mean_luma(feed.url, 1.5)) > 40  # the test pattern
        # A new reader starts at the relay's last keyframe (up to a GOP, 2 s, in the
        # past) and the encoder buffers about a second: judge the last frames read.
        feed.cover()
        dark = _mean_luma(feed.url, 4)
        assert max(dark[-5:]) < 25, dark  # black but for the burnt-in clock
        feed.cover(False)
        light = _mean_luma(feed.url, 4)
        assert min(light[-5:]) > 40, light
        assert feed.encoder.pid == pid  # no restart: the same encoder all along


def test_only_a_switchable_camera_can_be_covered() -> None:
    with pytest.raises(InvalidInput, match="not started switchable"):
        SimulatedCamera("rtsp://127.0.0.1:9/x").cover()
