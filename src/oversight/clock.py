"""Time source. Domain code never reads the clock; it takes ``now`` as a parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

from oversight.errors import InvalidInput

# Dates and instants taken as input stay a day inside Python's datetime range, so that
# each one's local date in any time zone, and the end of its day, are still datetimes
# (9999-12-31T23:00Z has no local date in UTC+8).
FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)
_FIRST, _LAST = datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)
_RANGE = f"from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"


def instant_in_range(moment: datetime, what: str) -> datetime:
    """An aware input instant, refused outside the range every conversion can hold."""
    if not _FIRST <= moment <= _LAST:
        raise InvalidInput(f"{what}: {moment.isoformat()} is out of range ({_RANGE})")
    return moment


def day_in_range(day: date, what: str) -> date:
    """An input date, refused outside the range every conversion can hold."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(f"{what}: {day.isoformat()} is out of range ({_RANGE})")
    return day


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock for tests and replays; ``advance`` moves it."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at
