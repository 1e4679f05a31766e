"""The command-line tests compare against ``TODAY``, the local date in China's legal
time zone when the tests were collected (tests/cli/test_registry_cli.py). A run that
crosses midnight there (16:00 UTC) would have the commands see the next day: every test
here runs on the collection day, the wall clock moved back by whole days (only the date
the rule packs see; the time of day and the passing of time are real)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from oversight import clock
from tests.cli.test_registry_cli import TODAY


@pytest.fixture(autouse=True)
def collection_day(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ahead = datetime.now(ZoneInfo("Asia/Shanghai")).date() - TODAY
    if ahead:
        shift = timedelta(days=ahead.days)
        monkeypatch.setattr(clock.SystemClock, "now", lambda self: datetime.now(UTC) - shift)
    yield
