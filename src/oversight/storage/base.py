"""The Store protocol: where sealed footage lives. Backends: local.py (and s3.py later).

Keys are relative POSIX paths (``camera/YYYY/MM/DD/HH/file``). A store never
overwrites an object: sealed footage is write-once, and deletion is the retention
engine's business alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from oversight.errors import InvalidInput

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$")


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


class Store(Protocol):
    """Write-once object storage for sealed segments."""

    name: str

    def put(self, key: str, source: Path) -> None:
        """Store ``source`` under ``key`` durably and atomically; ``source`` stays.

        Idempotent: putting the same bytes again is a no-op; different bytes under an
        existing key raise AlreadyExists.
        """
        ...

    def open(self, key: str) -> BinaryIO:
        """Read an object; NotFound if absent."""
        ...

    def size(self, key: str) -> int | None:
        """Size in bytes, or None if absent."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object (only the retention engine calls this); absent is fine."""
        ...

    def objects(self) -> Iterator[StoredObject]:
        """Every stored object, in key order."""
        ...


def check_key(key: str) -> str:
    if len(key) > 300 or not _KEY_RE.match(key) or ".." in key.split("/"):
        raise InvalidInput(f"invalid storage key {key!r}")
    return key


def segment_key(camera: str, seq: int, start: datetime, ext: str) -> str:
    """``camera/YYYY/MM/DD/HH/camera-SEQ-YYYYmmddTHHMMSSZ.ext`` in UTC."""
    t = start.astimezone(UTC)
    return check_key(
        f"{camera}/{t:%Y/%m/%d/%H}/{camera}-{seq:08d}-{t:%Y%m%dT%H%M%SZ}.{ext.lstrip('.')}"
    )
