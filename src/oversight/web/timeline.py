"""A camera's timeline over a window as an inline SVG picture (pure: spans in, markup out).

Rows, top to bottom: held (purple band), marked important (orange band), alarm (amber
band), then the recording bar (green where recorded, red where footage is missing,
including a gap still going on; white where nothing is known), then ticks in the
deployment's time zone, from minutes (a 10-minute window) to weeks. Colours are SVG
presentation attributes, not ``style=``: the console's CSP forbids inline styles.

Every band carries its range (``data-start``, ``data-end``, ISO), its kind and its
length in words for the hover text (static/timeline.js), a ``<title>`` for the same
without JavaScript, and, when ``href`` gives one, a link (``<a>``) to pick its range.
A gap narrower than a pixel still shows: its rectangle has a minimum width and it gets
a hairline whose stroke does not scale with the picture (``vector-effect``), so it stays
visible at any screen width.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from markupsafe import Markup, escape

from oversight.services.coverage import Coverage, Span
from oversight.web import i18n
from oversight.web.timeline_window import iso

WIDTH = 960
HELD_Y, BAND_H = 0, 6
IMPORTANT_Y = 7
ALARM_Y = 14
BAR_Y, BAR_H = 21, 20
TICK_Y = BAR_Y + BAR_H
HEIGHT = 58
MIN_W = 0.5  # a one-second gap in a day is still a visible hairline
HAIRLINE_BELOW = 2.0  # user units: a gap narrower than this also gets a hairline

COLOURS = {
    "recorded": "#2da44e",
    "gap": "#cf222e",
    "important": "#bc4c00",
    "held": "#8250df",
    "alarm": "#d4a72c",
}
LABELS = {
    "recorded": "recorded",
    "gap": "gap",
    "important": "important",
    "held": "held",
    "alarm": "alarm",
    "ongoing": "ongoing",
    "until_now": "until now",
}
ROWS = {  # kind: (y, height)
    "recorded": (BAR_Y, BAR_H),
    "gap": (BAR_Y, BAR_H),
    "important": (IMPORTANT_Y, BAND_H),
    "held": (HELD_Y, BAND_H),
    "alarm": (ALARM_Y, BAND_H),
}
Translate = Callable[..., str]


def _english(key: str, **values: object) -> str:
    return i18n.translate("en", key, **values)


def human_length(seconds: float, t: Translate = _english) -> str:
    """A length in words: "0.4 s", "42 s", "3 min 12 s", "2 h 5 min", "3 d 4 h"."""
    if seconds < 10:  # two decimals under a second: a 40 ms seam is not "0 s"
        digits = 2 if seconds < 1 else 1
        return t("tl.len.s", n=f"{max(seconds, 0):.{digits}f}".rstrip("0").rstrip(".") or "0")
    whole = round(seconds)
    if whole < 60:
        return t("tl.len.s", n=whole)
    if whole < 3600:
        m, s = divmod(whole, 60)
        return t("tl.len.m_s", m=m, s=s) if s else t("tl.len.m", m=m)
    minutes = round(seconds / 60)
    if minutes < 24 * 60:
        h, m = divmod(minutes, 60)
        return t("tl.len.h_m", h=h, m=m) if m else t("tl.len.h", h=h)
    hours = round(seconds / 3600)
    d, h = divmod(hours, 24)
    return t("tl.len.d_h", d=d, h=h) if h else t("tl.len.d", d=d)


# ---- ticks ---------------------------------------------------------------------------

# (longest window, seconds between ticks, seconds between labelled ticks)
_PLANS = (
    (timedelta(minutes=4), 15, 60),
    (timedelta(minutes=15), 60, 120),
    (timedelta(minutes=90), 300, 900),
    (timedelta(hours=3), 600, 1800),
    (timedelta(hours=8), 1800, 3600),
    (timedelta(hours=36), 3600, 3 * 3600),
    (timedelta(days=8), 6 * 3600, 86400),
)


def tick_plan(span: timedelta) -> tuple[int, int]:
    """(seconds between ticks, seconds between labelled ticks) for a window this long."""
    for longest, step, label in _PLANS:
        if span <= longest:
            return step, label
    return 86400, 7 * 86400


def tick_step(span: timedelta) -> tuple[int, int]:
    """:func:`tick_plan` in hours, for windows of an hour or more (kept for callers)."""
    step, label = tick_plan(span)
    return max(step // 3600, 1), max(label // 3600, 1)


def _local_seconds(moment: datetime, tz: tzinfo) -> int:
    local = moment.astimezone(tz)
    return local.hour * 3600 + local.minute * 60 + local.second + 86400 * local.toordinal()


def tick_times(start: datetime, end: datetime, tz: tzinfo, step_s: int) -> Iterator[datetime]:
    """Instants in [start, end) whose local time is a whole multiple of ``step_s``
    (counted from local midnight), as UTC instants."""
    stride = min(step_s, 3600)  # hourly candidates keep steps of hours on local hours
    base = start.replace(microsecond=0)
    if base < start:
        base += timedelta(seconds=1)
    local = base.astimezone(tz)
    moment = (base + timedelta(seconds=-(local.minute * 60 + local.second) % stride)).astimezone(
        UTC
    )
    while moment < end:
        if _local_seconds(moment, tz) % step_s == 0:
            yield moment
        moment += timedelta(seconds=stride)


def ticks(start: datetime, end: datetime, tz: tzinfo, step_h: int) -> Iterator[datetime]:
    """Whole local hours divisible by ``step_h`` in [start, end), as UTC instants."""
    return tick_times(start, end, tz, step_h * 3600)


# ---- the picture ---------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """What one timeline draws: spans per kind over [start, end)."""

    camera: str
    start: datetime
    end: datetime
    spans: Mapping[str, Sequence[Span]]
    ongoing: Span | None = None
    attrs: Mapping[str, str] = field(default_factory=dict)  # extra data- attributes


def _fmt(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def render(
    picture: Picture,
    tz: tzinfo,
    *,
    width: int = WIDTH,
    labels: Mapping[str, str] | None = None,
    t: Translate = _english,
    href: Callable[[str, Span], str | None] | None = None,
) -> Markup:
    """The picture scaled to ``width`` user units (x 0 = its start)."""
    names = {**LABELS, **(labels or {})}
    start, end = picture.start, picture.end
    total = (end - start).total_seconds()

    def x(moment: datetime) -> float:
        return round((moment - start).total_seconds() / total * width, 2)

    def rects(spans: Sequence[Span], kind: str) -> list[str]:
        y, h = ROWS[kind]
        out = []
        for span in spans:
            left = x(span.start)
            w = max(round(x(span.end) - left, 2), MIN_W)
            now_gap = picture.ongoing if kind == "gap" else None
            ongoing = (
                now_gap is not None and span.start <= now_gap.start and span.end >= now_gap.end
            )
            length = human_length((span.end - span.start).total_seconds(), t)
            name = f"{names[kind]} ({names['ongoing']})" if ongoing else names[kind]
            until = names["until_now"] if ongoing else _fmt(span.end, tz)
            tip = f"{name}: {_fmt(span.start, tz)} – {until} · {length}"
            css = f"{kind} ongoing" if ongoing else kind
            rect = (
                f'<rect class="{css}" x="{left}" y="{y}" width="{w}" height="{h}" '
                f'fill="{COLOURS[kind]}" data-kind="{kind}" data-start="{iso(span.start)}" '
                f'data-end="{iso(span.end)}" data-len="{escape(length)}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if kind == "gap" and w < HAIRLINE_BELOW:
                mid = round(left + w / 2, 2)
                rect += (
                    f'<line class="gap-mark" x1="{mid}" x2="{mid}" y1="{y}" y2="{y + h}" '
                    f'stroke="{COLOURS[kind]}" stroke-width="2" '
                    'vector-effect="non-scaling-stroke"/>'
                )
            link = href(kind, span) if href is not None else None
            out.append(f'<a href="{escape(link)}">{rect}</a>' if link else rect)
        return out

    extra = "".join(f' data-{k}="{escape(v)}"' for k, v in picture.attrs.items())
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {width} {HEIGHT}" data-camera="{escape(picture.camera)}" '
        f'data-start="{iso(start)}" data-end="{iso(end)}" data-width="{width}"{extra} '
        f'aria-label="{escape(picture.camera)}: {escape(_fmt(start, tz))} – '
        f'{escape(_fmt(end, tz))}">',
        f'<rect class="frame" x="0" y="{BAR_Y}" width="{width}" height="{BAR_H}" '
        'fill="#ffffff" stroke="#d8dee4"/>',
    ]
    for kind in ("recorded", "gap", "important", "held", "alarm"):
        parts += rects(picture.spans.get(kind, ()), kind)
    step, label_every = tick_plan(end - start)
    for moment in tick_times(start, end, tz, step):
        local = moment.astimezone(tz)
        tx = x(moment)
        labelled = _local_seconds(moment, tz) % label_every == 0
        parts.append(
            f'<line class="tick" x1="{tx}" x2="{tx}" y1="{TICK_Y}" '
            f'y2="{TICK_Y + (6 if labelled else 3)}" stroke="#5b6570" stroke-width="1"/>'
        )
        if labelled:
            pattern = "%m-%d" if label_every >= 86400 else "%H:%M" if step >= 60 else "%H:%M:%S"
            text = local.strftime(pattern)
            anchor = "start" if tx < 20 else "end" if tx > width - 20 else "middle"
            parts.append(
                f'<text x="{tx}" y="{HEIGHT - 4}" font-size="10" fill="#5b6570" '
                f'text-anchor="{anchor}">{text}</text>'
            )
    parts.append(
        '<rect class="pick" x="0" y="0" width="0" height="41" fill="#0969da" fill-opacity="0.25"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above


def timeline_svg(
    coverage: Coverage,
    tz: tzinfo,
    *,
    width: int = WIDTH,
    labels: Mapping[str, str] | None = None,
) -> Markup:
    """The picture of a :class:`Coverage` (recorded, gaps, marks and holds only)."""
    spans = {
        "recorded": coverage.recorded,
        "gap": coverage.gaps,
        "important": coverage.important,
        "held": coverage.held,
    }
    picture = Picture(coverage.camera, coverage.start, coverage.end, spans)
    return render(picture, tz, width=width, labels=labels)
