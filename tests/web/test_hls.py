"""HLS from sealed segments: real ffmpeg-made fragmented MP4 split into init and media,
the video codec read from the init section, and the playlist text."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oversight.errors import InvalidInput
from oversight.web import hls
from tests.evidence.helpers import make_segments
from tests.recorder.helpers import make_clip

pytestmark = pytest.mark.ffmpeg
T0 = datetime(2026, 5, 30, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("hls")
    first, second = make_segments(tmp / "h264", 2, seconds=2)
    return {
        "h264": first,
        "h264_next": second,
        "h265": make_clip(tmp / "h265.mp4", seconds=2, video="libx265", audio=None),
        "flat": make_clip(tmp / "flat.mp4", seconds=1, fragmented=False, audio=None),
    }


def _split(path: Path) -> tuple[bytes, bytes]:
    data = path.read_bytes()
    with path.open("rb") as f:
        parts = hls.split(f, len(data))
    assert parts.init[0] == 0 and parts.init[1] == parts.media[0] and parts.media[1] == len(data)
    return data[slice(*parts.init)], data[slice(*parts.media)]


def test_a_recorder_segment_splits_into_init_and_media_that_rejoin(
    media: dict[str, Path],
) -> None:
    for key in ("h264", "h264_next"):
        init, part = _split(media[key])
        assert init[4:8] == b"ftyp" and b"moov" in init and b"moof" not in init
        assert part[4:8] == b"moof" and b"mdat" in part
        assert init + part == media[key].read_bytes()


def test_the_codec_comes_from_the_init_section(media: dict[str, Path]) -> None:
    h264, _ = _split(media["h264"])
    h265, _ = _split(media["h265"])
    assert hls.video_codec(h264) == "avc1" and hls.playable("avc1")
    assert hls.video_codec(h265) in ("hev1", "hvc1")
    assert not hls.playable(hls.video_codec(h265)) and not hls.playable(None)


def test_what_is_not_fragmented_mp4_is_refused(media: dict[str, Path], tmp_path: Path) -> None:
    data = media["flat"].read_bytes()
    with pytest.raises(InvalidInput, match="no moof"):
        hls.split(io.BytesIO(data), len(data))
    junk = b"\x00\x00\x00\x10junkjunkjunkjunk"
    with pytest.raises(InvalidInput, match="does not start with ftyp"):
        hls.split(io.BytesIO(junk), len(junk))
    whole = media["h264"].read_bytes()
    cut = whole[: len(whole) - 100]  # a truncated file: its last box overruns
    with pytest.raises(InvalidInput, match="does not fit"):
        hls.split(io.BytesIO(cut), len(cut))


def test_the_playlist_maps_each_segment_with_a_discontinuity_between() -> None:
    entries = [
        hls.Entry(T0, T0 + timedelta(seconds=6), "/p/1/seg/7/init.mp4", "/p/1/seg/7/media.m4s"),
        hls.Entry(
            T0 + timedelta(seconds=6),
            T0 + timedelta(seconds=12.5),
            "/p/1/seg/8/init.mp4",
            "/p/1/seg/8/media.m4s",
        ),
    ]
    assert hls.playlist(entries) == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:7\n"
        "#EXT-X-TARGETDURATION:7\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-DISCONTINUITY-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXT-X-INDEPENDENT-SEGMENTS\n"
        '#EXT-X-MAP:URI="/p/1/seg/7/init.mp4"\n'
        "#EXT-X-PROGRAM-DATE-TIME:2026-05-30T08:00:00.000Z\n"
        "#EXTINF:6.000,\n"
        "/p/1/seg/7/media.m4s\n"
        "#EXT-X-DISCONTINUITY\n"
        '#EXT-X-MAP:URI="/p/1/seg/8/init.mp4"\n'
        "#EXT-X-PROGRAM-DATE-TIME:2026-05-30T08:00:06.000Z\n"
        "#EXTINF:6.500,\n"
        "/p/1/seg/8/media.m4s\n"
        "#EXT-X-ENDLIST\n"
    )
    with pytest.raises(InvalidInput):
        hls.playlist([])
