"""The coverage picture: spans become rectangles at the right places, ticks fall on
local hours, and nothing in it needs an inline style."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from oversight.services.coverage import Coverage, Span
from oversight.web.timeline import ticks, timeline_svg

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # local midnight in Shanghai


def _cov(**spans: list[Span]) -> Coverage:
    values: dict[str, list[Span]] = {"recorded": [], "gaps": [], "important": [], "held": []}
    values.update(spans)
    return Coverage("cam1", T0, T0 + timedelta(hours=24), segments=0, **values)


def _h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _rects(svg: str, kind: str) -> list[tuple[float, float, float]]:
    found = re.findall(rf'<rect class="{kind}" x="([\d.]+)" y="(\d+)" width="([\d.]+)"', svg)
    return [(float(x), float(w), float(y)) for x, y, w in found]


def test_recorded_and_gap_spans_are_placed_in_proportion_to_the_day() -> None:
    svg = timeline_svg(
        _cov(recorded=[Span(_h(6), _h(12)), Span(_h(13), _h(24))], gaps=[Span(_h(12), _h(13))]),
        SHANGHAI,
        width=960,
    )
    # 960 units over 24 h: 40 units an hour.
    assert [(x, w) for x, w, _ in _rects(svg, "recorded")] == [(240, 240), (520, 440)]
    assert [(x, w) for x, w, _ in _rects(svg, "gap")] == [(480, 40)]
    assert 'fill="#2da44e"' in svg and 'fill="#cf222e"' in svg


def test_important_and_held_are_bands_above_the_bar() -> None:
    svg = timeline_svg(
        _cov(
            recorded=[Span(_h(0), _h(24))],
            important=[Span(_h(1), _h(3))],
            held=[Span(_h(2), _h(2.5))],
        ),
        SHANGHAI,
        width=480,
    )
    [(bar_x, bar_w, bar_y)] = _rects(svg, "recorded")
    [(imp_x, imp_w, imp_y)] = _rects(svg, "important")
    [(held_x, held_w, held_y)] = _rects(svg, "held")
    assert (bar_x, bar_w) == (0, 480)
    assert (imp_x, imp_w) == (20, 40) and (held_x, held_w) == (40, 10)
    assert held_y < imp_y < bar_y
    assert 'fill="#bc4c00"' in svg and 'fill="#8250df"' in svg


def test_a_tiny_gap_is_still_visible() -> None:
    svg = timeline_svg(_cov(gaps=[Span(_h(5), _h(5) + timedelta(seconds=1))]), SHANGHAI)
    [(_, width, _)] = _rects(svg, "gap")
    assert width == 0.5


def test_hour_ticks_are_local_whole_hours_labelled_every_three() -> None:
    svg = timeline_svg(_cov(), SHANGHAI, width=960)
    xs = [float(x) for x in re.findall(r'<line class="tick" x1="([\d.]+)"', svg)]
    assert xs == [40.0 * h for h in range(24)]
    labels = re.findall(r">(\d\d:\d\d)</text>", svg)
    assert labels == [f"{h:02d}:00" for h in range(0, 24, 3)]


def test_ticks_follow_the_time_zone_not_utc() -> None:
    # A range starting at 16:30 UTC = 00:30 in Shanghai: the first tick is 01:00 local.
    start = T0 + timedelta(minutes=30)
    first = next(ticks(start, start + timedelta(hours=3), SHANGHAI, 1))
    assert first.astimezone(SHANGHAI).strftime("%H:%M") == "01:00"
    six_hourly = list(ticks(T0, T0 + timedelta(days=2), SHANGHAI, 6))
    assert [t.astimezone(SHANGHAI).hour for t in six_hourly[:4]] == [0, 6, 12, 18]


def test_titles_name_each_span_in_local_time_and_no_inline_styles() -> None:
    svg = timeline_svg(_cov(gaps=[Span(_h(1), _h(2))]), SHANGHAI, labels={"gap": "缺口 <b>"})
    # The length in words follows the range (issue 22: gap lengths in human units).
    assert "<title>缺口 &lt;b&gt;: 2026-03-02 01:00:00 – 2026-03-02 02:00:00 · 1 h</title>" in svg
    assert "style=" not in svg
