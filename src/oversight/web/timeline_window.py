"""The timeline's window from ``?span=`` and ``?end=`` (pure: text and now in, window out).

``span`` is a preset (``10m``, ``1h``, ``6h``, ``24h``, ``7d``) or a number with a unit
(``90s``, ``45m``, ``3h``, ``2d``); ``end`` is an ISO 8601 instant with a time zone
(``Z`` or an offset), later ones clamped to now. The bounds come from the settings
(``OVERSIGHT_TIMELINE_MIN_SPAN_S``, ``OVERSIGHT_TIMELINE_MAX_SPAN_DAYS``); anything
else is an :class:`InvalidInput` (a 400 with one line) before anything is read.
Zoom keeps the window's middle; pan moves it by half a window; neither passes now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from oversight.errors import InvalidInput

PRESETS = {
    "10m": timedelta(minutes=10),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SPAN = re.compile(r"^(\d{1,7})([smhd])$")
MAX_TEXT = 40  # longer than any ISO instant: refused before parsing


@dataclass(frozen=True)
class Bounds:
    min_span: timedelta
    max_span: timedelta


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    now: datetime
    bounds: Bounds

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @property
    def live(self) -> bool:
        """Whether the window ends now (links then carry no ``end``: it follows now)."""
        return self.end >= self.now

    def query(self, **extra: str) -> str:
        """This window as a query string (``extra`` added, e.g. ``camera``)."""
        values = {"span": span_text(self.span)}
        if not self.live:
            values["end"] = iso(self.end)
        return urlencode({**values, **extra})

    def _moved(self, span: timedelta, end: datetime) -> Window:
        span = min(max(span, self.bounds.min_span), self.bounds.max_span)
        end = min(end, self.now)
        return Window(end - span, end, self.now, self.bounds)

    def zoomed(self, factor: float) -> Window:
        """``factor`` < 1 zooms in, > 1 out, about the middle (kept within bounds)."""
        middle = self.start + self.span / 2
        span = timedelta(seconds=round(self.span.total_seconds() * factor))
        end = middle + span / 2
        if self.live:
            end = self.now
        return self._moved(span, end)

    def panned(self, halves: int) -> Window:
        """Moved by ``halves`` half-windows (negative: earlier)."""
        return self._moved(self.span, self.end + self.span / 2 * halves)

    def preset(self, span: timedelta) -> Window:
        return self._moved(span, self.end)

    def at_now(self) -> Window:
        return self._moved(self.span, self.now)

    @property
    def can_zoom_in(self) -> bool:
        return self.span > self.bounds.min_span

    @property
    def can_zoom_out(self) -> bool:
        return self.span < self.bounds.max_span


def iso(moment: datetime) -> str:
    """An instant as links carry it: UTC, whole seconds, ``Z`` (no ``+`` to escape)."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def span_text(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for name, value in PRESETS.items():
        if span == value:
            return name
    for unit in ("d", "h", "m"):
        if seconds % UNITS[unit] == 0:
            return f"{seconds // UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse_span(text: str, bounds: Bounds) -> timedelta:
    found = _SPAN.match(text.strip().lower())
    if len(text) > MAX_TEXT or found is None:
        raise InvalidInput(
            f"span {text[:MAX_TEXT]!r} is not a window: use {', '.join(PRESETS)} "
            "or a number with s, m, h or d (e.g. 90m)"
        )
    span = timedelta(seconds=int(found.group(1)) * UNITS[found.group(2)])
    if not bounds.min_span <= span <= bounds.max_span:
        raise InvalidInput(
            f"span {text} is outside the timeline's bounds: {span_text(bounds.min_span)} "
            f"to {span_text(bounds.max_span)}"
        )
    return span


def parse_instant(text: str, name: str) -> datetime:
    """An ISO 8601 instant with a time zone, as UTC."""
    try:
        if len(text) > MAX_TEXT:
            raise ValueError
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{name} {text[:MAX_TEXT]!r} is not an ISO 8601 instant (e.g. 2026-12-08T01:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} {text!r} needs a time zone (Z or an offset such as +08:00)")
    return moment.astimezone(UTC)


def window(span: str, end: str, now: datetime, bounds: Bounds, default: timedelta) -> Window:
    """The window the query asks for ("" for either: the default span, ending now)."""
    length = (
        parse_span(span, bounds) if span else min(max(default, bounds.min_span), bounds.max_span)
    )
    last = parse_instant(end, "end") if end else now
    if last > now:
        last = now  # a link made earlier still works: the window cannot pass now
    if now - last > timedelta(days=3660):
        raise InvalidInput(f"end {end} is more than ten years ago")
    return Window(last - length, last, now, bounds)
