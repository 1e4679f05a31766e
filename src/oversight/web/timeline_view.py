"""The timeline as the console shows it: one row per camera over one window, its links,
and the range picked (a click on a band without JavaScript, a drag with it).

A picked range links to the request form prefilled (``/access/new?camera=&start=&end=``)
and, for a person who holds a grant covering it, to the player (``/play/GRANT?camera=
&start=&end=``). Thumbnails are offered only for grants this browser session is
executing with a witness (``web/witness.py``); the route checks everything again
through the enforcement point.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import Request
from markupsafe import Markup

from oversight.api.security import Caller
from oversight.errors import InvalidInput
from oversight.services import timeline as svc
from oversight.services.coverage import Span
from oversight.web import witness
from oversight.web.render import context
from oversight.web.timeline import Picture, Translate, human_length, render
from oversight.web.timeline_window import PRESETS, Bounds, Window, iso, parse_instant
from oversight.web.timeline_window import window as parse_window

KINDS = ("recorded", "gap", "important", "held", "alarm")
LABEL_KEYS = {
    "recorded": "timeline.recorded",
    "gap": "timeline.gap",
    "important": "timeline.important",
    "held": "timeline.held",
    "alarm": "tl.alarm",
    "ongoing": "tl.ongoing",
    "until_now": "tl.until_now",
}


@dataclass(frozen=True)
class Row:
    camera: str
    svg: Markup
    fraction: float
    segments: int
    state: str

    @property
    def percent(self) -> str:
        """Share recorded, without calling a few seconds in a week "0.0"."""
        pct = self.fraction * 100
        return "<0.1" if 0 < pct < 0.1 else f"{pct:.1f}"


@dataclass(frozen=True)
class Pick:
    camera: str
    start: datetime
    end: datetime
    length: str
    request_link: str
    play_link: str | None
    grant: int | None


def bounds(caller: Caller) -> Bounds:
    settings = caller.system.settings
    return Bounds(
        timedelta(seconds=settings.timeline_min_span_s),
        timedelta(days=settings.timeline_max_span_days),
    )


def window_of(caller: Caller, span: str, end: str, default: str = "24h") -> Window:
    return parse_window(span, end, caller.system.clock.now(), bounds(caller), PRESETS[default])


def request_link(camera: str, start: datetime, end: datetime) -> str:
    return "/access/new?" + urlencode({"camera": camera, "start": iso(start), "end": iso(end)})


def play_link(grant: int, camera: str, start: datetime, end: datetime) -> str:
    return f"/play/{grant}?" + urlencode({"camera": camera, "start": iso(start), "end": iso(end)})


def _thumb_grants(request: Request, caller: Caller, grants: list[svc.Playable]) -> list[int]:
    """The grants this session executes now (a witness signed in): thumbnails only there."""
    runs = witness.executions(request)
    now = caller.system.clock.now()
    return [
        g.grant
        for g in grants
        if runs.get(caller.token, g.grant, caller.person.id, now) is not None
    ]


def rows(
    request: Request, caller: Caller, cameras: list[str], win: Window, base: str
) -> tuple[list[Row], list[svc.Playable]]:
    """A row per camera; ``base`` is the page the bands' no-JS links pick on."""
    system = caller.system
    t: Translate = context(request, caller)["t"]
    labels = {kind: t(key) for kind, key in LABEL_KEYS.items()}
    grants = svc.playable_grants(system, caller.person)
    thumbs = _thumb_grants(request, caller, grants)
    out = []
    for camera in cameras:
        found = svc.bands(system, caller.person, camera, win.start, win.end)
        mine = [g for g in grants if camera in g.cameras]

        def href(kind: str, span: Span, camera: str = camera) -> str:
            query = win.query(sel_camera=camera, sel_start=iso(span.start), sel_end=iso(span.end))
            return f"{base}?{query}#pick"

        attrs = {
            "grants": json.dumps(
                [{"id": g.grant, "start": iso(g.start), "end": iso(g.end)} for g in mine]
            ),
            "thumbs": json.dumps([g.grant for g in mine if g.grant in thumbs]),
            "tz": str(system.packs.timezone),
            "state": found.state,
        }
        picture = Picture(
            camera,
            found.start,
            found.end,
            {kind: found.of(kind) for kind in KINDS},
            found.ongoing,
            attrs,
        )
        svg = render(picture, system.packs.timezone, labels=labels, t=t, href=href)
        out.append(Row(camera, svg, found.fraction, found.segments, found.state))
    return out, grants


def pick(
    request: Request,
    caller: Caller,
    cameras: list[str],
    grants: list[svc.Playable],
    camera: str,
    start: str,
    end: str,
) -> Pick | None:
    """The range a band's link picked (None: nothing picked); bad values are refused."""
    if not (camera or start or end):
        return None
    if camera not in cameras:
        raise InvalidInput(f"camera {camera[:64]!r} is not on this timeline")
    lo, hi = parse_instant(start, "sel_start"), parse_instant(end, "sel_end")
    if hi <= lo:
        raise InvalidInput("the range picked must end after it starts")
    t: Translate = context(request, caller)["t"]
    grant = svc.covering(grants, camera, lo, hi)
    return Pick(
        camera,
        lo,
        hi,
        human_length((hi - lo).total_seconds(), t),
        request_link(camera, lo, hi),
        play_link(grant.grant, camera, lo, hi) if grant else None,
        grant.grant if grant else None,
    )


@dataclass(frozen=True)
class Control:
    key: str  # locale key of its label
    href: str | None  # None: not possible from here (at a bound, or already now)
    rel: str = ""  # what static/timeline.js binds it to (zoom-in, earlier, ...)
    current: bool = False


def controls(win: Window, base: str, **extra: str) -> tuple[list[Control], list[Control]]:
    """(zoom and pan links, preset links) for ``win`` on the page ``base``."""
    keep = {k: v for k, v in extra.items() if v}

    def link(other: Window) -> str:
        return f"{base}?{other.query(**keep)}"

    moves = [
        Control("tl.earlier", link(win.panned(-1)), "earlier"),
        Control("tl.zoom_in", link(win.zoomed(0.5)) if win.can_zoom_in else None, "zoom-in"),
        Control("tl.zoom_out", link(win.zoomed(2)) if win.can_zoom_out else None, "zoom-out"),
        Control("tl.later", None if win.live else link(win.panned(1)), "later"),
        Control("tl.now", None if win.live else link(win.at_now()), "now"),
    ]
    presets = [
        Control(name, link(win.preset(span)), "preset", current=win.span == span)
        for name, span in PRESETS.items()
        if win.bounds.min_span <= span <= win.bounds.max_span
    ]
    return moves, presets


def lengths(request: Request, caller: Caller) -> Callable[[float], str]:
    """Seconds in words in the page's language ("0.4 s", "3 min 12 s", "2 h 5 min")."""
    t: Translate = context(request, caller)["t"]
    return lambda seconds: human_length(seconds, t)
