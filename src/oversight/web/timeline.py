"""A camera's coverage over a range as an inline SVG picture (pure: spans in, markup out).

Rows, top to bottom: held (purple band), marked important (orange band), then the
recording bar (green where recorded, red where the recorder logged a gap; white where
nothing is known), then hour ticks in the deployment's time zone. Colours are SVG
presentation attributes, not ``style=``: the console's CSP forbids inline styles.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from markupsafe import Markup, escape

from oversight.services.coverage import Coverage, Span

WIDTH = 960
HELD_Y, BAND_H = 0, 6
IMPORTANT_Y = 7
BAR_Y, BAR_H = 15, 20
TICK_Y = BAR_Y + BAR_H
HEIGHT = 52
MIN_W = 0.5  # a one-second gap in a day is still a visible hairline

COLOURS = {
    "recorded": "#2da44e",
    "gap": "#cf222e",
    "important": "#bc4c00",
    "held": "#8250df",
}
LABELS = {"recorded": "recorded", "gap": "gap", "important": "important", "held": "held"}


def tick_step(span: timedelta) -> tuple[int, int]:
    """(hours between ticks, hours between labelled ticks) for a range of this length."""
    if span <= timedelta(hours=36):
        return 1, 3
    if span <= timedelta(days=8):
        return 6, 24
    return 24, 24 * 7


def ticks(start: datetime, end: datetime, tz: tzinfo, step_h: int) -> Iterator[datetime]:
    """Whole local hours divisible by ``step_h`` in [start, end), as UTC instants."""
    local = start.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    moment = local.astimezone(UTC)
    if moment < start:
        moment += timedelta(hours=1)
    while moment < end:
        if moment.astimezone(tz).hour % step_h == 0:
            yield moment
        moment += timedelta(hours=1)


def _fmt(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def timeline_svg(
    coverage: Coverage,
    tz: tzinfo,
    *,
    width: int = WIDTH,
    labels: Mapping[str, str] | None = None,
) -> Markup:
    """The picture of ``coverage`` scaled to ``width`` user units (x 0 = its start)."""
    names = {**LABELS, **(labels or {})}
    start, end = coverage.start, coverage.end
    total = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return round((moment - start).total_seconds() / total * width, 2)

    def rects(spans: Sequence[Span], kind: str, y: int, h: int) -> list[str]:
        out = []
        for span in spans:
            left = x(span.start)
            w = max(round(x(span.end) - left, 2), MIN_W)
            tip = f"{names[kind]}: {_fmt(span.start, tz)} – {_fmt(span.end, tz)}"
            out.append(
                f'<rect class="{kind}" x="{left}" y="{y}" width="{w}" height="{h}" '
                f'fill="{COLOURS[kind]}"><title>{escape(tip)}</title></rect>'
            )
        return out

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {width} {HEIGHT}" '
        f'aria-label="{escape(coverage.camera)}: {escape(_fmt(start, tz))} – '
        f'{escape(_fmt(end, tz))}">',
        f'<rect class="frame" x="0" y="{BAR_Y}" width="{width}" height="{BAR_H}" '
        'fill="#ffffff" stroke="#d8dee4"/>',
    ]
    parts += rects(coverage.recorded, "recorded", BAR_Y, BAR_H)
    parts += rects(coverage.gaps, "gap", BAR_Y, BAR_H)
    parts += rects(coverage.important, "important", IMPORTANT_Y, BAND_H)
    parts += rects(coverage.held, "held", HELD_Y, BAND_H)
    step, label_every = tick_step(end - start)
    for moment in ticks(start, end, tz, step):
        local = moment.astimezone(tz)
        tx = x(moment)
        labelled = (local.hour + 24 * local.toordinal()) % label_every == 0
        parts.append(
            f'<line class="tick" x1="{tx}" x2="{tx}" y1="{TICK_Y}" '
            f'y2="{TICK_Y + (6 if labelled else 3)}" stroke="#5b6570" stroke-width="1"/>'
        )
        if labelled:
            text = local.strftime("%H:%M") if label_every < 24 else local.strftime("%m-%d")
            anchor = "start" if tx < 20 else "end" if tx > width - 20 else "middle"
            parts.append(
                f'<text x="{tx}" y="{HEIGHT - 4}" font-size="10" fill="#5b6570" '
                f'text-anchor="{anchor}">{text}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
