"""The player's clock, pure: playlist entries placed on media time and the wall clock,
and the gaps of a range shown; the still's ffmpeg argv. Tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from oversight.errors import InvalidInput
from oversight.media import still
from oversight.web.console import player_clock as pc

T = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def spans(*pairs: tuple[float, float]) -> list[tuple[datetime, datetime]]:
    return [(at(a), at(b)) for a, b in pairs]


def test_pieces_run_on_in_media_time_across_the_gaps() -> None:
    found = pc.pieces(spans((0, 2), (5, 7.5), (7.5, 9.0004)))
    assert [(p.media, p.duration) for p in found] == [(0.0, 2.0), (2.0, 2.5), (4.5, 1.5)]
    assert [p.start for p in found] == [at(0), at(5), at(7.5)]
    # A zero-length entry still counts the playlist's floor of one millisecond.
    [tiny, after] = pc.pieces(spans((0, 0), (1, 2)))
    assert tiny.duration == 0.001 and after.media == 0.001
    # A seam where segments overlap by a few milliseconds (the recorder's cut): each
    # piece keeps its own start, media time runs on, and no gap is made of it.
    seam = pc.pieces(spans((0, 2.004), (2, 4)))
    assert [(p.media, p.start) for p in seam] == [(0.0, at(0)), (2.004, at(2))]
    assert pc.gaps(seam, at(0), at(4)) == []


@pytest.mark.parametrize(
    ("pairs", "shown", "expected"),
    [
        ([], (0, 10), [(0, 10)]),
        ([(0, 10)], (0, 10), []),
        ([(0, 2), (5, 7)], (0, 10), [(2, 5), (7, 10)]),
        ([(1, 2)], (0, 10), [(0, 1), (2, 10)]),
        ([(0, 2), (5, 7)], (3, 4), [(3, 4)]),  # inside one gap
        ([(0, 2), (5, 7)], (1, 6), [(2, 5)]),  # cut to the range shown
        ([(0, 2), (2, 4)], (0, 4), []),  # touching pieces leave no gap
        ([(-5, 1), (20, 30)], (0, 10), [(1, 10)]),  # pieces outside the range
    ],
)
def test_gaps_are_the_parts_of_the_range_no_piece_covers(
    pairs: list[tuple[float, float]],
    shown: tuple[float, float],
    expected: list[tuple[float, float]],
) -> None:
    found = pc.pieces(spans(*pairs))
    assert pc.gaps(found, at(shown[0]), at(shown[1])) == spans(*expected)


def test_the_page_data_is_in_epoch_milliseconds() -> None:
    data = pc.as_data(pc.pieces(spans((0, 2), (3, 4))), at(0), at(5))
    ms = pc.millis(T)
    assert data == {
        "pieces": [
            {"media": 0.0, "duration": 2.0, "start": ms, "end": ms + 2000},
            {"media": 2.0, "duration": 1.0, "start": ms + 3000, "end": ms + 4000},
        ],
        "gaps": [{"start": ms + 2000, "end": ms + 3000}, {"start": ms + 4000, "end": ms + 5000}],
    }
    with pytest.raises(InvalidInput, match="end after it starts"):
        pc.gaps([], at(5), at(5))


def test_the_still_argv_seeks_then_takes_one_frame() -> None:
    argv = still.still_argv("/proc/1/fd/7", Fraction(5, 2), "/tmp/x.jpg", "jpeg")
    assert argv[argv.index("-ss") + 1] == "2.500000"
    assert argv.index("-ss") < argv.index("-i")  # input seek: from the keyframe before it
    assert argv[argv.index("-i") + 1] == "file:/proc/1/fd/7"
    assert argv[argv.index("-frames:v") + 1] == "1" and argv[-1] == "/tmp/x.jpg"
    png = still.still_argv("f", Fraction(0), "o.png", "png")
    assert png[png.index("-c:v") + 1] == "png" and "-q:v" not in png
    with pytest.raises(InvalidInput, match="not one of jpeg, png"):
        still.still_argv("f", Fraction(0), "o", "gif")
    with pytest.raises(InvalidInput, match="negative"):
        still.still_argv("f", Fraction(-1), "o", "jpeg")
