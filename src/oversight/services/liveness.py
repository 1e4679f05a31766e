"""Whether the recorder and the health monitor are running, for the dashboard (issue 22).

Neither keeps a row of its own on one machine; both are known by what they write. The
recorder heartbeats its cameras' status rows (``recording.heartbeat``) and says
"stopped" when it stops; :func:`recording.list_status` already reads a status it has not
touched for ``STALE_AFTER_S`` as ``recorder_down`` (issue 19), and this module reuses
that reading. The monitor overwrites each camera's health snapshot every few seconds; a
snapshot older than ``health.STALE_AFTER`` means it is not running."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from oversight.bootstrap import System
from oversight.services import health
from oversight.services.recording import RECORDER_DOWN, StatusRec

# States that only a running recorder reports (a stale row reads as RECORDER_DOWN).
_DOWN = frozenset({"stopped", RECORDER_DOWN, "never recorded"})


@dataclass(frozen=True)
class Liveness:
    """``running`` or not; ``since``: the last word of a process that is not running
    (None: never heard from), or when a running one last spoke."""

    running: bool
    since: datetime | None
    cameras: int  # how many cameras the judgement is about (0: nothing to run for)


def recorder(statuses: Sequence[StatusRec]) -> Liveness:
    """The recorder over these cameras' statuses (as :func:`recording.list_status` gives
    them, stale ones already ``recorder_down``)."""
    heard = [s.updated_at for s in statuses if s.updated_at is not None]
    running = any(s.state not in _DOWN for s in statuses)
    return Liveness(running, max(heard) if heard else None, len(statuses))


def monitor(system: System, cameras: Sequence[str]) -> Liveness:
    """The health monitor over ``cameras``: running if any of their snapshots is fresh."""
    snaps = [s for c, s in health.snapshots(system).items() if c in set(cameras)]
    now = system.clock.now()
    heard = [s.updated_at for s in snaps]
    running = any(now - s.updated_at <= health.STALE_AFTER for s in snaps)
    return Liveness(running, max(heard) if heard else None, len(cameras))
