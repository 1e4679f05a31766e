"""The name of an evidence package (and of its zip): grant, cameras, range and export
time, e.g. ``oversight-grant12-cam1-20260501T1200Z-20260501T1210Z-exported-
20261207T153012Z`` (issue 22, item 6). Pure: the caller makes a taken name distinct.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

MAX_CAMERAS_NAMED = 4  # more are counted ("7cameras"), keeping the name short
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _instant(at: datetime, *, seconds: bool) -> str:
    at = at.astimezone(UTC)
    if seconds or at.second or at.microsecond:
        return at.strftime("%Y%m%dT%H%M%SZ")
    return at.strftime("%Y%m%dT%H%MZ")


def _cameras(cameras: Sequence[str]) -> str:
    if len(cameras) > MAX_CAMERAS_NAMED:
        return f"{len(cameras)}cameras"
    return "+".join(_UNSAFE.sub("_", c).strip("._") or "camera" for c in sorted(cameras))


def package_name(
    grant_id: int, cameras: Sequence[str], start: datetime, end: datetime, exported_at: datetime
) -> str:
    return (
        f"oversight-grant{grant_id}-{_cameras(cameras)}-{_instant(start, seconds=False)}-"
        f"{_instant(end, seconds=False)}-exported-{_instant(exported_at, seconds=True)}"
    )


def distinct(name: str, taken: Collection[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... the first not in ``taken``."""
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"
