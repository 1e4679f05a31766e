"""The timeline's window (``?span=``, ``?end=``), its bounds, zoom and pan, and lengths
in words: pure functions, plain tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oversight.errors import InvalidInput
from oversight.media import ffmpeg
from oversight.web import i18n
from oversight.web.timeline import human_length, tick_plan
from oversight.web.timeline_window import Bounds, iso, parse_instant, parse_span, span_text, window

NOW = datetime(2026, 12, 8, 1, 0, 0, tzinfo=UTC)
BOUNDS = Bounds(timedelta(seconds=60), timedelta(days=31))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10m", 600), ("1h", 3600), ("6h", 21600), ("24h", 86400), ("7d", 604800), ("90s", 90)],
)
def test_spans_read_presets_and_numbers_with_a_unit(text: str, seconds: int) -> None:
    assert parse_span(text, BOUNDS) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("30s", "outside the timeline's bounds: 1m to 31d"),
        ("32d", "outside the timeline's bounds"),
        ("banana", "is not a window"),
        ("10", "is not a window"),
        ("-5m", "is not a window"),
        ("9" * 60 + "s", "is not a window"),
    ],
)
def test_malformed_or_out_of_bounds_spans_are_refused_in_one_line(text: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as caught:
        parse_span(text, BOUNDS)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("yesterday", "is not an ISO 8601 instant"),
        ("2026-12-07T10:00:00", "needs a time zone"),
        ("2026-13-07T10:00:00Z", "is not an ISO 8601 instant"),
    ],
)
def test_an_end_must_be_an_instant_with_a_zone(text: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        parse_instant(text, "end")


def test_the_window_defaults_to_now_and_never_passes_it() -> None:
    win = window("", "", NOW, BOUNDS, timedelta(hours=24))
    assert (win.start, win.end, win.live) == (NOW - timedelta(hours=24), NOW, True)
    later = window("1h", iso(NOW + timedelta(days=2)), NOW, BOUNDS, timedelta(hours=24))
    assert later.end == NOW  # a link made earlier still works
    past = window("1h", "2026-12-07T10:00:00+08:00", NOW, BOUNDS, timedelta(hours=24))
    assert past.end == datetime(2026, 12, 7, 2, 0, tzinfo=UTC) and not past.live
    assert past.query() == "span=1h&end=2026-12-07T02%3A00%3A00Z"


def test_zoom_keeps_the_middle_and_stays_within_bounds_pan_stops_at_now() -> None:
    past = window("1h", "2026-12-07T12:00:00Z", NOW, BOUNDS, timedelta(hours=24))
    zin = past.zoomed(0.5)
    assert (zin.start, zin.end) == (
        datetime(2026, 12, 7, 11, 15, tzinfo=UTC),
        datetime(2026, 12, 7, 11, 45, tzinfo=UTC),
    )
    assert past.zoomed(1 / 1000).span == BOUNDS.min_span
    assert past.zoomed(10_000).span == BOUNDS.max_span
    assert past.panned(-1).end == datetime(2026, 12, 7, 11, 30, tzinfo=UTC)
    assert past.panned(100).end == NOW
    live = window("1h", "", NOW, BOUNDS, timedelta(hours=24))
    assert live.zoomed(0.5).end == NOW  # zooming a live window keeps it live


def test_span_texts_round_trip() -> None:
    for text in ("10m", "1h", "7d", "90s", "45m", "3h", "2d"):
        assert span_text(parse_span(text, BOUNDS)) == text


@pytest.mark.parametrize(
    ("seconds", "en", "zh"),
    [
        (0.4, "0.4 s", "0.4 秒"),
        (0.04, "0.04 s", "0.04 秒"),
        (0.001, "0 s", "0 秒"),
        (2.5, "2.5 s", "2.5 秒"),
        (42, "42 s", "42 秒"),
        (192, "3 min 12 s", "3 分 12 秒"),
        (180, "3 min", "3 分"),
        (7500, "2 h 5 min", "2 小时 5 分"),
        (3 * 86400 + 4 * 3600, "3 d 4 h", "3 天 4 小时"),
    ],
)
def test_lengths_read_in_human_units_in_both_languages(seconds: float, en: str, zh: str) -> None:
    assert human_length(seconds) == en
    assert human_length(seconds, lambda key, **kw: i18n.translate("zh", key, **kw)) == zh


def test_ticks_go_from_seconds_to_weeks() -> None:
    assert tick_plan(timedelta(minutes=10)) == (60, 120)
    assert tick_plan(timedelta(hours=24)) == (3600, 3 * 3600)
    assert tick_plan(timedelta(days=31)) == (86400, 7 * 86400)


def test_the_thumbnail_command_reads_stdin_seeks_after_it_and_is_bounded() -> None:
    argv = ffmpeg.build_thumbnail_command(1.25, width=160)
    assert argv[argv.index("-i") + 1] == "pipe:0"
    assert argv.index("-ss") > argv.index("-i") and argv[argv.index("-ss") + 1] == "1.250"
    assert argv[argv.index("-frames:v") + 1] == "1" and argv[-1] == "pipe:1"
    with pytest.raises(InvalidInput, match="16 to 640 pixels"):
        ffmpeg.build_thumbnail_command(0, width=4000)
    with pytest.raises(InvalidInput, match="cannot be negative"):
        ffmpeg.build_thumbnail_command(-1)
