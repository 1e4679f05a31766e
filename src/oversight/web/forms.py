"""Reading console form and filter values: dates and local times typed by a person.

Browsers send ``<input type="date">`` as ``YYYY-MM-DD`` and ``datetime-local`` as
``YYYY-MM-DDTHH:MM`` without a zone; both mean the deployment's local time (the rule
pack's), which is what every page shows. Anything else is a 400 naming the field.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from oversight.bootstrap import System
from oversight.clock import day_in_range, instant_in_range
from oversight.errors import InvalidInput


def today(system: System) -> date:
    return system.packs.local_date(system.clock.now())


def a_date(value: str, what: str) -> date:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None
    return day_in_range(day, what)


def optional_date(value: str | None, what: str) -> date | None:
    return a_date(value, what) if value and value.strip() else None


def local_instant(system: System, value: str, what: str) -> datetime:
    """A ``datetime-local`` value in the deployment's time zone, as an aware instant."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{what}: {value!r} is not a date and time (YYYY-MM-DDTHH:MM)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=system.packs.timezone)
    return instant_in_range(moment, what)


def day_range(
    system: System, start: date | None, end: date | None
) -> tuple[datetime | None, datetime | None]:
    """[start of ``start``, end of ``end``) as instants; the end date is inclusive."""
    if start is not None and end is not None and end < start:
        raise InvalidInput(f"the range ends ({end}) before it starts ({start})")
    return (
        system.packs.start_of_day(start) if start else None,
        system.packs.start_of_day(end + timedelta(days=1)) if end else None,
    )


def text(value: str | None) -> str | None:
    """An optional free-text field: blank means absent."""
    return value.strip() if value and value.strip() else None


def size_text(n: float | None) -> str:
    """Bytes for people: 1.2 GB (decimal units, as disks are sold)."""
    if n is None:
        return "—"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")
