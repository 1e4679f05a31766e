"""Storage capacity (pure): can the store hold what retention requires?

Per camera, the bitrate is measured from its recent sealed segments (bytes over
recorded seconds). Retention needs ``bitrate x keep_days`` of footage per camera;
the store holds ``used + free`` bytes. The days of footage the store can hold is that
capacity divided by the daily bytes of every camera. When it is below the legal
floor, footage would be lost before its time: a finding now, not a loss later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_DAY = 86400


@dataclass(frozen=True)
class CameraUse:
    camera: str
    recorded_seconds: float
    recorded_bytes: int
    keep_days: int

    @property
    def bytes_per_second(self) -> float:
        return self.recorded_bytes / self.recorded_seconds if self.recorded_seconds > 0 else 0.0

    @property
    def bytes_per_day(self) -> float:
        return self.bytes_per_second * _DAY

    @property
    def needed_bytes(self) -> float:
        return self.bytes_per_day * self.keep_days


@dataclass(frozen=True)
class Capacity:
    cameras: tuple[CameraUse, ...]
    used_bytes: int
    free_bytes: int | None  # None: object storage without a fixed size
    floor_days: int

    @property
    def total_bytes(self) -> int | None:
        return None if self.free_bytes is None else self.used_bytes + self.free_bytes

    @property
    def bytes_per_day(self) -> float:
        return sum(c.bytes_per_day for c in self.cameras)

    @property
    def needed_bytes(self) -> float:
        return sum(c.needed_bytes for c in self.cameras)

    @property
    def days(self) -> float | None:
        """Days of footage of all cameras the store can hold (None: nothing recorded)."""
        daily, total = self.bytes_per_day, self.total_bytes
        return None if daily <= 0 or total is None else total / daily

    @property
    def sufficient(self) -> bool:
        """Can the store hold every camera's retention (and at least the legal floor)?"""
        total = self.total_bytes
        if total is None or self.bytes_per_day <= 0:
            return True
        return total / self.bytes_per_day >= self.floor_days and self.needed_bytes <= total

    def projection(self, days: int) -> list[tuple[int, float]]:
        """(day, bytes stored) from today, as footage accumulates until each camera's
        retention is reached and purges balance new recording."""
        out = []
        for day in range(days + 1):
            stored = sum(c.bytes_per_day * min(day, c.keep_days) for c in self.cameras)
            out.append((day, self.used_bytes + stored))
        return out


def measure(
    recorded: Mapping[str, tuple[float, int]],
    keep_days: Mapping[str, int],
    used_bytes: int,
    free_bytes: int | None,
    floor_days: int,
) -> Capacity:
    """``recorded``: camera -> (seconds, bytes) of its recent footage."""
    cameras: Sequence[CameraUse] = [
        CameraUse(camera, seconds, size, keep_days.get(camera, floor_days))
        for camera, (seconds, size) in sorted(recorded.items())
    ]
    return Capacity(tuple(cameras), used_bytes, free_bytes, floor_days)
