"""The pure side of clip cutting: piece plans, ffconcat lists, mask boxes, filters, argv."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oversight.errors import InvalidInput
from oversight.evidence import clips
from oversight.evidence.clips import Box, Piece, SegmentSpan

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


SPANS = [
    SegmentSpan(Path("/s/a.mp4"), s(0), s(6)),
    SegmentSpan(Path("/s/b.mp4"), s(6), s(12)),
    SegmentSpan(Path("/s/c.mp4"), s(14), s(20)),  # after a 2 s gap
]
A, B, C = SPANS


@pytest.mark.parametrize(
    ("start", "end", "want"),
    [
        (0, 6, [Piece(A)]),
        (3, 9, [Piece(A, inpoint_us=3_000_000), Piece(B, outpoint_us=3_000_000)]),
        (1.5, 2.25, [Piece(A, inpoint_us=1_500_000, outpoint_us=2_250_000)]),
        (6, 12, [Piece(B)]),
        (11, 15, [Piece(B, inpoint_us=5_000_000), Piece(C, outpoint_us=1_000_000)]),
        (-5, 30, [Piece(A), Piece(B), Piece(C)]),
        (12.5, 16, [Piece(C, outpoint_us=2_000_000)]),  # starts inside the gap
    ],
)
def test_plan_pieces(start: float, end: float, want: list[Piece]) -> None:
    assert clips.plan_pieces(list(reversed(SPANS)), s(start), s(end)) == want


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (12, 14, "no sealed footage"),
        (5, 5, "after its start"),
        (6, 3, "after its start"),
    ],
)
def test_plan_pieces_refuses(start: float, end: float, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        clips.plan_pieces(SPANS, s(start), s(end))


def test_plan_pieces_needs_aware_times() -> None:
    with pytest.raises(InvalidInput, match="timezone-aware"):
        clips.plan_pieces(SPANS, datetime(2024, 5, 1, 8), s(3))


def test_concat_list_quotes_paths() -> None:
    pieces = [
        Piece(SegmentSpan(Path("/s/it's here.mp4"), s(0), s(6)), inpoint_us=2_500_001),
        Piece(SegmentSpan(Path("/s/b.mp4"), s(6), s(12)), outpoint_us=1_000_000),
    ]
    assert clips.concat_list(pieces) == (
        "ffconcat version 1.0\n"
        "file '/s/it'\\''s here.mp4'\n"
        "inpoint 2.500001\n"
        "file '/s/b.mp4'\n"
        "outpoint 1.000000\n"
    )


@pytest.mark.parametrize("path", ["relative.mp4", "/s/two\nlines.mp4"])
def test_concat_list_refuses_odd_paths(path: str) -> None:
    with pytest.raises(InvalidInput):
        clips.concat_list([Piece(SegmentSpan(Path(path), s(0), s(6)))])


# ---- masks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("polygon", "want"),
    [
        (
            [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]],
            [Box(250_000, 250_000, 750_000, 750_000)],
        ),
        ([[0, 0], [1, 0], [1, 1], [0, 1]], [Box(0, 0, 1_000_000, 1_000_000)]),
        ([[0.1, 0.5], [0.9, 0.5], [0.5, 0.5]], []),  # no area
    ],
)
def test_mask_boxes_table(polygon: list[list[float]], want: list[Box]) -> None:
    assert clips.mask_boxes(polygon) == want


def test_a_triangle_becomes_strips_that_narrow() -> None:
    boxes = clips.mask_boxes([[0.5, 0.0], [1.0, 1.0], [0.0, 1.0]], strips=4)
    assert len(boxes) == 4
    assert [b.y0 for b in boxes] == [0, 250_000, 500_000, 750_000]
    assert [b.x1 - b.x0 for b in boxes] == [250_000, 500_000, 750_000, 1_000_000]


def _inside(polygon: list[tuple[float, float]], x: float, y: float) -> bool:
    inside = False
    n = len(polygon)
    for i in range(n):
        (ax, ay), (bx, by) = polygon[i], polygon[(i + 1) % n]
        if (ay > y) != (by > y) and x < ax + (bx - ax) * (y - ay) / (by - ay):
            inside = not inside
    return inside


coords = st.floats(min_value=0, max_value=1, allow_nan=False)


@given(
    st.lists(st.tuples(coords, coords), min_size=3, max_size=8),
    st.lists(st.tuples(coords, coords), min_size=20, max_size=20),
)
def test_mask_boxes_cover_every_point_inside(
    polygon: list[tuple[float, float]], probes: list[tuple[float, float]]
) -> None:
    boxes = clips.mask_boxes(polygon, strips=16)
    for x, y in [*probes, *polygon]:
        if _inside(polygon, x, y) or ((x, y) in polygon and len(boxes) > 0):
            px, py = x * clips.UNIT, y * clips.UNIT
            assert any(b.x0 <= px <= b.x1 and b.y0 <= py <= b.y1 for b in boxes), (x, y)


@pytest.mark.parametrize(
    "polygon",
    [[[0, 0], [1, 0]], [[0, 0], [1.5, 0], [1, 1]], [[0, 0, 0], [1, 0], [1, 1]]],
)
def test_bad_masks_are_refused(polygon: list[list[float]]) -> None:
    with pytest.raises(InvalidInput):
        clips.mask_boxes(polygon)


def test_drawbox_rounds_outwards_and_never_zero() -> None:
    assert clips.drawbox(Box(250_000, 100_000, 750_000, 200_000)) == (
        "drawbox=x=floor(iw*0.250000):y=floor(ih*0.100000)"
        ":w=max(1\\,ceil(iw*0.750000)-floor(iw*0.250000))"
        ":h=max(1\\,ceil(ih*0.200000)-floor(ih*0.100000)):color=black:t=fill"
    )


# ---- watermark and argv -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("/usr/share/fonts/a.ttf", "/usr/share/fonts/a.ttf"),
        ("/tmp/a:b", "/tmp/a\\\\:b"),
        ("/tmp/it's", "/tmp/it\\\\\\'s"),
        ("/tmp/a,b;[c]", "/tmp/a\\,b\\;\\[c\\]"),
    ],
)
def test_filter_value_escapes_twice(value: str, want: str) -> None:
    assert clips.filter_value(value) == want


def test_watermark_filter_with_and_without_font() -> None:
    text = clips.watermark_filter(Path("/w/t.txt"), Path("/f/DejaVuSans.ttf"))
    assert text.startswith("drawtext=fontfile=/f/DejaVuSans.ttf:textfile=/w/t.txt:expansion=none")
    assert clips.watermark_filter(Path("/w/t.txt"), None).startswith("drawbox=")


@pytest.mark.parametrize("text", ["", "   ", "a\x07b"])
def test_watermark_text_is_checked(text: str) -> None:
    with pytest.raises(InvalidInput):
        clips.check_watermark_text(text)


def test_stream_copy_argv() -> None:
    argv = clips.build_cut_command(Path("/w/list.ffconcat"), Path("/o/c.mp4"))
    assert argv[:7] == [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-n",
    ]
    joined = " ".join(argv)
    assert "-f concat -safe 0 -auto_convert 0 -i file:/w/list.ffconcat" in joined
    assert "-map 0:v:0 -map 0:a? -map_metadata -1 -c copy" in joined
    assert "-vf" not in argv and "libx264" not in argv
    assert argv[-4:] == ["+faststart", "-f", "mp4", "file:/o/c.mp4"]


def test_stream_copy_of_mixed_codec_setups_converts_packets() -> None:
    argv = clips.build_cut_command(Path("/w/l"), Path("/o/c.mp4"), same_setup=False)
    assert argv[argv.index("-auto_convert") + 1] == "1"


@pytest.mark.parametrize(
    ("returncode", "stdout", "want"),
    [
        (
            0,
            '{"streams": [{"index": 0, "codec_type": "video", "codec_name": "h264",'
            ' "extradata_hash": "SHA256:ab"}, {"index": 1, "codec_type": "audio",'
            ' "codec_name": "aac"}]}',
            ("0:video:h264:SHA256:ab", "1:audio:aac:None"),
        ),
        (0, "{}", ()),
    ],
)
def test_parse_codec_setup(returncode: int, stdout: str, want: tuple[str, ...]) -> None:
    assert clips.parse_codec_setup(returncode, stdout, "") == want


@pytest.mark.parametrize(("returncode", "stdout"), [(1, ""), (0, "not json"), (0, "[]")])
def test_parse_codec_setup_refuses(returncode: int, stdout: str) -> None:
    with pytest.raises(InvalidInput):
        clips.parse_codec_setup(returncode, stdout, "x: Invalid data")


def test_codec_setup_argv() -> None:
    argv = clips.codec_setup_argv(Path("/s/a.mp4"))
    assert argv[0] == "ffprobe" and argv[-1] == "file:/s/a.mp4"
    assert "-show_data_hash" in argv


def test_reencode_argv() -> None:
    argv = clips.build_cut_command(
        Path("/w/l"), Path("/o/c.mkv"), filters=["drawbox=a", "drawtext=b"], ffmpeg="/opt/ffmpeg"
    )
    assert argv[0] == "/opt/ffmpeg"
    i = argv.index("-vf")
    assert argv[i + 1] == "drawbox=a,drawtext=b"
    assert argv[i + 2 : i + 4] == ["-c:v", "libx264"]
    assert argv[argv.index("-c:a") + 1] == "copy"
    assert "-c" not in argv
    assert argv[-3:] == ["-f", "matroska", "file:/o/c.mkv"]


def test_unknown_container_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"\.mp4 or \.mkv"):
        clips.build_cut_command(Path("/w/l"), Path("/o/c.avi"))


def test_cut_timeout_grows_with_length_and_reencoding() -> None:
    assert clips.cut_timeout(s(0), s(60), reencode=False) == 150
    assert clips.cut_timeout(s(0), s(60), reencode=True) == 360
