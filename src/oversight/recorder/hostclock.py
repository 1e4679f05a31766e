"""The recorder host's clock: where its time comes from and how far off it may be.

Every claimed segment time is this host's wall clock, so the recorder writes down, at
start and every hour, what the kernel says of its time synchronisation (``adjtimex(2)``
read-only: the NTP/PTP daemon's last offset, the maximum error and whether the clock is
synchronised at all) and the clock source behind it. Linux only; elsewhere (or if the
call fails) the status says ``unknown`` rather than guessing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

_STA_UNSYNC = 0x0040  # the kernel's "clock not synchronised" status bit
_STA_NANO = 0x2000  # offsets in nanoseconds rather than microseconds
_TIME_ERROR = 5  # adjtimex's return value for an unsynchronised clock
_CLOCKSOURCE = Path("/sys/devices/system/clocksource/clocksource0/current_clocksource")


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """``struct timex`` of <sys/timex.h> (glibc, 64-bit and 32-bit alike: longs)."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


@dataclass(frozen=True)
class HostClock:
    """What the host says of its clock. Offsets and errors in microseconds."""

    host: str
    source: str  # the kernel clock source (tsc, kvm-clock, ...), or "unknown"
    synchronised: bool | None  # None: could not be read
    offset_us: int
    max_error_us: int

    def details(self) -> dict[str, str | int]:
        """The fields of a ``host.sync`` leaf (strings and integers only)."""
        synced = {True: "yes", False: "no", None: "unknown"}[self.synchronised]
        return {
            "host": self.host,
            "source": self.source,
            "synchronised": synced,
            "offset_us": self.offset_us,
            "max_error_us": self.max_error_us,
        }


def _clock_source() -> str:
    try:
        return _CLOCKSOURCE.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def read() -> HostClock:
    """The host's clock status now (never raises)."""
    host = socket.gethostname()
    source = _clock_source()
    if not sys.platform.startswith("linux"):
        return HostClock(host, source, None, 0, 0)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        timex = _Timex()  # modes 0: read only, needs no privilege
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError):
        return HostClock(host, source, None, 0, 0)
    if state < 0:
        return HostClock(host, source, None, 0, 0)
    scale = 1000 if timex.status & _STA_NANO else 1
    synced = state != _TIME_ERROR and not timex.status & _STA_UNSYNC
    return HostClock(host, source, synced, int(timex.offset // scale), int(timex.maxerror))
